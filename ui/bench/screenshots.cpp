// Screenshots of the main window (see screenshots.h).
#include "ui/bench/screenshots.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QListWidget>
#include <QPainter>
#include <QPalette>
#include <QPixmap>
#include <QPushButton>
#include <QScreen>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <algorithm>
#include <limits>

#include "ui/compare/compare_loader.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/prompt_compare_view.h"
#include "ui/dashboard/dashboard_panel.h"
#include "ui/data/data_panel.h"
#include "ui/data/jsonl_model.h"
#include "ui/data/reverse_flow.h"
#include "ui/main_window.h"
#include "ui/rollouts/rollout_detail_view.h"
#include "ui/rollouts/rollout_filter_bar.h"
#include "ui/rollouts/rollouts_model.h"
#include "ui/rollouts/rollouts_panel.h"
#include "ui/runs/fork_dialog.h"
#include "ui/runs/runs_dock.h"
#include "ui/runs/runs_model.h"
#include "ui/setup/setup_panel.h"
#include "ui/workspace/workspace_session.h"

namespace reflab::ui {

namespace {

void wait(int ms) {
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

}  // namespace

int takeScreenshots(MainWindow& window, const QString& dir, int settle_ms) {
    QDir().mkpath(dir);
    int written = 0;
    auto shoot = [&](const QString& name) {
        wait(400);
        if (window.grab().save(QDir(dir).filePath(name + ".png"))) ++written;
    };
    wait(settle_ms);
    // Show the running runs plus the most recent others, as a researcher
    // comparing would.
    QStringList runs;
    for (const auto& r : window.session()->runs()->runs()) runs << QString::fromStdString(r.id);
    while (runs.size() > 4) runs.removeFirst();
    window.session()->runs()->setCheckedRuns(runs);
    window.tabs()->setCurrentWidget(window.dashboard());
    window.dashboard()->fitAll();
    shoot("dashboard");
    {
        // The same under a dark system palette: the charts follow it.
        const QPalette light = window.palette();
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x2b2b2b));
        dark.setColor(QPalette::WindowText, QColor(0xe0e0e0));
        dark.setColor(QPalette::Base, QColor(0x1e1e1e));
        dark.setColor(QPalette::AlternateBase, QColor(0x262626));
        dark.setColor(QPalette::Text, QColor(0xe0e0e0));
        dark.setColor(QPalette::Button, QColor(0x353535));
        dark.setColor(QPalette::ButtonText, QColor(0xe0e0e0));
        dark.setColor(QPalette::Highlight, QColor(0x3d7ab8));
        dark.setColor(QPalette::HighlightedText, Qt::white);
        dark.setColor(QPalette::Mid, QColor(0x505050));
        window.setPalette(dark);
        shoot("dashboard_dark");
        window.setPalette(light);
    }
    // What a click on a chart point opens: that run's rollouts at that step.
    if (!runs.isEmpty()) {
        const auto* r = window.session()->runs()->run(runs.back());
        const qint64 step = r ? std::max<qint64>(1, r->step / 2) : 1;
        window.rollouts()->showStep(runs.back(), step,
                                    window.session()->runs()->displayName(runs.back()));
        window.tabs()->setCurrentWidget(window.rollouts());
        wait(800);  // the loader thread fetches the page and the detail
        shoot("rollouts");
        // The same rollout's tokens coloured by the entropy each was drawn from (a run that
        // stored none stays coloured by log-prob).
        QComboBox* colour_by = window.rollouts()->detailView()->colourBy();
        colour_by->setCurrentIndex(colour_by->findData(int(TokenColour::Entropy)));
        wait(300);
        shoot("rollouts_entropy");
        colour_by->setCurrentIndex(colour_by->findData(int(TokenColour::LogProb)));
        // Every rollout of the ticked runs (a run column), sorted by reward, best first.
        window.rollouts()->filterBar()->clear();
        window.rollouts()->showRuns(runs);
        window.rollouts()->table()->sortByColumn(
            window.rollouts()->model()->columnOf(RolloutsModel::Column::Reward),
            Qt::DescendingOrder);
        wait(1500);
        shoot("rollouts_runs");
        // A text search over them (the index's substring search; "answer" is in every
        // completion that kept the answer format), with its count.
        window.rollouts()->filterBar()->searchBox()->setText(QStringLiteral("answer"));
        wait(2500);  // the typing pause, the first page, the count
        shoot("rollouts_search");
        window.rollouts()->filterBar()->clear();
    }
    // The runs dock narrowed to a tag (the dock's tag filter), then the fork dialog's step
    // picker on the first run with checkpoints. A dialog is a window of its own: the screen is
    // grabbed where one exists (xcb), else the dialog is drawn over the window's picture.
    if (const QStringList tags = window.session()->runs()->allTags(); !tags.isEmpty()) {
        // The tag that narrows the list most (a tag every run has would show no filtering).
        QString narrowest = tags.front();
        int fewest = std::numeric_limits<int>::max();
        for (const QString& tag : tags) {
            int n = 0;
            for (const auto& r : window.session()->runs()->runs())
                n += std::count(r.tags.begin(), r.tags.end(), tag.toStdString()) > 0;
            if (n < fewest) fewest = n, narrowest = tag;
        }
        window.runsDock()->setTagFilter(narrowest);
        shoot("runs_tags");
        window.runsDock()->setTagFilter({});
    }
    for (const auto& r : window.session()->runs()->runs()) {
        ForkDialog* dialog = window.askForkStep(QString::fromStdString(r.id));
        if (!dialog) break;
        for (int waited = 0; !dialog->loaded() && waited < 10000; waited += 100) wait(100);
        if (dialog->list()->count() < 2) {
            dialog->reject();
            continue;
        }
        dialog->list()->setCurrentRow(dialog->list()->count() / 2);
        wait(400);
        QPixmap shot = window.grab();
        const QPixmap screen = window.screen()
                                   ? window.screen()->grabWindow(0, window.x(), window.y(),
                                                                 window.width(), window.height())
                                   : QPixmap();
        // A bare offscreen screen grabs nothing: black or null.
        if (!screen.isNull() && screen.toImage().pixelColor(5, 5) != Qt::black) {
            shot = screen;
        } else {
            QPainter p(&shot);
            p.drawPixmap(dialog->geometry().topLeft() - window.geometry().topLeft(),
                         dialog->grab());
        }
        if (shot.save(QDir(dir).filePath("fork_dialog.png"))) ++written;
        dialog->reject();
        break;
    }
    // Compare: the checked runs, each of its views; the same-prompt view on the first prompt a
    // search lists.
    if (runs.size() >= 2) {
        ComparePanel* compare = window.compare();
        window.tabs()->setCurrentWidget(compare);
        const auto settle = [&] {
            wait(200);
            for (int waited = 0; compare->loader()->busy() && waited < 20000; waited += 100)
                wait(100);
        };
        settle();
        const QStringList views = {"compare_setup", "compare_summary", "compare_charts",
                                   "compare_validity", "compare_prompt"};
        for (int i = 0; i < compare->views()->count() && i < views.size(); ++i) {
            compare->views()->setCurrentIndex(i);
            // The Charts view builds its charts once shown, one per event-loop turn.
            for (int waited = 0;
                 views[i] == "compare_charts" && compare->chartsPending() && waited < 20000;
                 waited += 100)
                wait(100);
            if (views[i] == "compare_prompt") {
                // The demo's eval prompts (eval-*, asked by every run at each eval step: 20
                // is one of all three demo recipes), else any prompt id with a "p" (the
                // synthetic workspace's p0..p63).
                compare->promptView()->setStep(20);
                for (const QString query :
                     {QStringLiteral("eval-1"), QStringLiteral("q2-"), QStringLiteral("p")}) {
                    compare->promptView()->search()->setText(query);
                    wait(400);
                    settle();
                    if (compare->promptView()->matches()->count() > 0) break;
                }
                // The first of the listed prompts whose two first columns answer differently,
                // so the word diff shows something (else the first prompt).
                PromptCompareView* view = compare->promptView();
                const auto differs = [view] {
                    const auto& cols = view->columns();
                    return cols.size() >= 2 && !cols[0].rollouts.empty() &&
                           !cols[1].rollouts.empty() &&
                           cols[0].rollouts[0].record.completion !=
                               cols[1].rollouts[0].record.completion;
                };
                const int listed = std::min(view->matches()->count(), 12);
                for (int row = 0; row < listed; ++row) {
                    view->matches()->setCurrentRow(row);
                    settle();
                    if (differs()) break;
                    if (row + 1 == listed) view->matches()->setCurrentRow(0);
                }
                settle();
            }
            shoot(views[i]);
        }
        compare->views()->setCurrentIndex(0);
    }
    // Data: 24 demo problems with a broken line and one without its answer (named, skipped
    // with consent), then the reverse-reasoning flow run for real with the demo model.
    {
        QFile src(SetupPanel::resolvePath("resources/data/demo/train.jsonl"));
        const QString sample = QDir(dir).filePath(".reverse-sample.jsonl");
        QFile out(sample);
        if (src.open(QIODevice::ReadOnly) && out.open(QIODevice::WriteOnly)) {
            for (int i = 0; i < 24 && !src.atEnd(); ++i) {
                out.write(src.readLine());
                if (i == 5) out.write("{\"question\": \"What is 2 plus\n");
                if (i == 11)
                    out.write("{\"id\": \"no-answer\", \"question\": \"What is 1 plus 1?\"}\n");
            }
            out.close();
            DataPanel* data = window.data();
            window.tabs()->setCurrentWidget(data);
            data->openFile(sample);
            for (int waited = 0; !data->model()->jsonlIndex() && waited < 10000; waited += 100)
                wait(100);
            ReverseFlow* flow = data->reverseFlow();
            flow->setWorkFolder(QDir(dir).filePath(".reverse-work"));
            flow->setFields("question", "answer");
            shoot("data_viewer");
            data->consentToSkip();
            flow->setModelDir(SetupPanel::resolvePath("resources/models/demo"));
            data->pages()->setCurrentWidget(flow);
            QString error;
            if (flow->generate(&error)) {
                for (int waited = 0; flow->table()->rowCount() == 0 && waited < 120000;
                     waited += 250)
                    wait(250);
            }
            shoot("data_reverse");
            data->pages()->setCurrentIndex(0);
            QFile::remove(sample);
            QDir(QDir(dir).filePath(".reverse-work")).removeRecursively();
        }
    }
    window.tabs()->setCurrentWidget(window.setup());
    auto* setupTabs = window.setup()->findChild<QTabWidget*>("setupTabs");
    const QStringList pages = {"setup_model_data", "setup_template", "setup_rewards",
                               "setup_training", "setup_try_rewards"};
    for (int i = 0; i < setupTabs->count() && i < pages.size(); ++i) {
        setupTabs->setCurrentIndex(i);
        if (pages[i] == "setup_try_rewards") {
            // The real thing: sample and score with the recipe's model (up to a minute).
            auto* button = window.setup()->findChild<QPushButton*>("tryRewardsButton");
            auto* table = window.setup()->findChild<QTableWidget*>("tryTable");
            if (button && table) {
                button->click();
                for (int waited = 0; table->rowCount() == 0 && waited < 60000; waited += 250)
                    wait(250);
            }
        }
        shoot(pages[i]);
    }
    setupTabs->setCurrentIndex(0);
    return written;
}

}  // namespace reflab::ui
