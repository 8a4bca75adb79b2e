// The Compare tab benchmark (see compare_bench.h).
#include "ui/bench/compare_bench.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QListWidget>
#include <QMenu>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolButton>
#include <algorithm>
#include <chrono>
#include <future>

#include "core/store/workspace.h"
#include "ui/bench/synthetic_workspace.h"
#include "ui/common/run_colors.h"
#include "ui/compare/compare_panel.h"
#include "ui/compare/prompt_compare_view.h"

namespace reflab::ui {

// Named, not anonymous: ui/bench compiles as one unity batch, beside rollouts_bench's helpers.
namespace compare_bench {

constexpr int kRuns = 4, kPerStep = 256;
constexpr int kExtraMetrics = 7;  // 12 of every step + eval/exact_match + 7 = 20 metrics

// The longest gap between ticks of a 5 ms timer since the last reset(): GUI-thread work that
// kept the event loop from running.
class StallProbe {
public:
    StallProbe() {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(5);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const double now = now_ms();
            m_max = std::max(m_max, now - m_last);
            m_last = now;
        });
        m_clock.start();
        m_timer.start();
    }
    void reset() {
        m_max = 0;
        m_last = now_ms();
    }
    double max() {
        // The gap still open counts too (work that ended the phase without a tick after it).
        return std::max(m_max, now_ms() - m_last);
    }

private:
    double now_ms() const { return double(m_clock.nsecsElapsed()) / 1e6; }
    QElapsedTimer m_clock;
    QTimer m_timer;
    double m_max = 0, m_last = 0;
};

// Runs the event loop until `done` (checked every millisecond, not spun: the loader thread
// needs the other core); returns the milliseconds it took, -1 on timeout.
template <class Pred>
double waitFor(Pred done, int timeout_ms = 300000) {
    QElapsedTimer t;
    t.start();
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(1);
    QObject::connect(&poll, &QTimer::timeout, [&] {
        if (done() || t.elapsed() > timeout_ms) loop.quit();
    });
    if (!done()) {
        poll.start();
        loop.exec();
    }
    return done() ? double(t.nsecsElapsed()) / 1e6 : -1.0;
}

// 4 runs of `steps` steps x 20 metrics, 256 rollouts on every k-th step, and a fifth run on
// other data (prompt "other-1", which no compared run has). Written on a thread of its own.
void generate(const QString& path, int rollouts, int steps) {
    auto written = std::async(std::launch::async, [file = path.toStdString(), rollouts, steps] {
        auto ws = store::Workspace::open(file);
        const int rollout_steps = std::max(1, rollouts / (kRuns * kPerStep));
        const int stride = std::max(1, steps / rollout_steps);
        for (int r = 0; r < kRuns; ++r) {
            const std::string id = createSyntheticRun(
                ws, "compare bench " + std::to_string(r) + " lr " + std::to_string(r + 1) + "e-5",
                steps, r);
            for (int s = 0; s < steps; ++s)
                writeSyntheticSteps(ws, id, s, 1, (s + 1) % stride == 0 ? kPerStep : 0, r, 1.7e9,
                                    kExtraMetrics);
            ws.setRunStatus(id, store::RunStatus::Finished);
        }
        const std::string other = createSyntheticRun(ws, "other data", 1, 9);
        store::StepRecord rec;
        rec.step = 1;
        rec.time = 1.7e9;
        store::RolloutRecord ro;
        ro.step = 1;
        ro.prompt_id = "other-1";
        ro.prompt = "A question of another data set";
        ro.completion = "an answer";
        ro.finish_reason = "eos";
        rec.rollouts.push_back(ro);
        ws.writeStep(other, rec);
        ws.setRunStatus(other, store::RunStatus::Finished);
    });
    // The event loop runs meanwhile, polled: the writer needs the core.
    waitFor([&] { return written.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
            3600 * 1000);
    written.get();  // rethrows the writer's error
}

// The compared runs' ids, read off the workspace on a worker thread (ui/bench may open the
// store, but the GUI thread of a benchmark still does not wait on it).
QStringList compareRuns(const QString& path) {
    auto ids = std::async(std::launch::async, [file = path.toStdString()] {
        auto ws = store::Workspace::open(file, /*read_only=*/true);
        QStringList out;
        for (const auto& r : ws.listRuns())
            if (r.name.rfind("compare bench", 0) == 0) out << QString::fromStdString(r.id);
        std::sort(out.begin(), out.end());
        return out;
    });
    return ids.get();
}

}  // namespace compare_bench

QJsonObject benchCompare(int rollouts, int steps, const QString& keep_path) {
    QTemporaryDir dir;
    const QString path = keep_path.isEmpty() ? dir.filePath("compare.db") : keep_path;
    QJsonObject o;
    QElapsedTimer gen;
    gen.start();
    if (!QFileInfo::exists(path)) {
        compare_bench::generate(path, rollouts, steps);
        o["generate_workspace_s"] = double(gen.elapsed()) / 1000.0;
    } else if (store::Workspace::needsUpgrade(path.toStdString())) {
        // A kept workspace of an older schema is migrated once, as the GUI does on opening it
        // (a copy first, then the new indexes): timed, since a user waits for it once.
        auto migrated = std::async(std::launch::async,
                                   [file = path.toStdString()] { store::Workspace::open(file); });
        compare_bench::waitFor(
            [&] { return migrated.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
            3600 * 1000);
        migrated.get();
        o["migrate_workspace_s"] = double(gen.elapsed()) / 1000.0;
    }
    const QStringList runs = compare_bench::compareRuns(path);
    QHash<QString, RunStyle> styles;
    for (int i = 0; i < runs.size(); ++i)
        styles.insert(runs[i], {QString("compare bench %1").arg(i), runColor(i)});

    ComparePanel panel;
    panel.resize(1920, 1040);
    panel.show();
    QApplication::processEvents();
    compare_bench::StallProbe probe;
    int compared = 0, prompts = 0;
    QObject::connect(panel.loader(), &CompareLoader::compared, &panel, [&] { ++compared; });
    QObject::connect(panel.loader(), &CompareLoader::promptLoaded, &panel, [&] { ++prompts; });
    QElapsedTimer t;
    const auto phase = [&](const char* name, auto start, auto done) {
        probe.reset();
        t.restart();
        start();
        const double ms = compare_bench::waitFor(done);
        QJsonObject p;
        p["ms"] = ms;
        p["max_stall_ms"] = probe.max();
        o[name] = p;
        return p;
    };

    // The summary table and the overlaid charts of the default metrics (the answer is handled
    // in one slot on the GUI thread: both are full when it returns).
    panel.setWorkspace(path);
    panel.setRunStyles(styles);
    QJsonObject open = phase(
        "open_default_metrics", [&] { panel.setRuns(runs); },
        [&] { return compared == 1 && !panel.loader()->busy(); });
    open["metrics"] = int(panel.comparison().metrics.size());
    open["summary_rows"] = panel.summaryModel()->rowCount();
    o["open_default_metrics"] = open;

    // The Charts view shown: its charts are built then, one per event-loop turn.
    QJsonObject charts = phase(
        "charts_view_default_metrics", [&] { panel.views()->setCurrentIndex(2); },
        [&] { return !panel.chartsPending(); });
    charts["charts"] = int(panel.charts().size());
    o["charts_view_default_metrics"] = charts;
    panel.views()->setCurrentIndex(1);  // Summary
    QApplication::processEvents();

    // All 20 metrics (as the metric picker would ask).
    QStringList all;
    if (auto* picker = panel.findChild<QToolButton*>("metricPicker"))
        for (QAction* a : picker->menu()->actions()) all << a->text();
    QJsonObject wide = phase(
        "open_all_metrics", [&] { panel.setMetrics(all); },
        [&] { return compared == 2 && !panel.loader()->busy(); });
    wide["metrics"] = int(panel.comparison().metrics.size());
    o["open_all_metrics"] = wide;
    QJsonObject wideCharts = phase(
        "charts_view_all_metrics", [&] { panel.views()->setCurrentIndex(2); },
        [&] { return !panel.chartsPending(); });
    wideCharts["charts"] = int(panel.charts().size());
    int points = 0;
    for (MetricChart* c : panel.charts()) points += c->graphPointCount();
    wideCharts["points_drawn"] = points;
    o["charts_view_all_metrics"] = wideCharts;
    compare_bench::waitFor([] { return false; }, 300);  // settle: the last charts are painted

    // Same prompt: search, then the columns of a prompt every run asked at step steps/2, then
    // of one no compared run has (the worst case of the nearest-step walk).
    PromptCompareView* view = panel.promptView();
    panel.views()->setCurrentWidget(view);
    QApplication::processEvents();
    QJsonObject search = phase(
        "prompt_search", [&] { panel.loader()->searchPrompts("p17"); },
        [&] { return view->matches()->count() > 0 && !panel.loader()->busy(); });
    search["matches"] = view->matches()->count();
    o["prompt_search"] = search;
    view->setStep(steps / 2);
    QJsonObject same = phase(
        "same_prompt_columns", [&] { view->choosePrompt("p17"); },
        [&] { return prompts == 1 && !panel.loader()->busy(); });
    int shown = 0;
    for (const auto& c : view->columns()) shown += int(c.rollouts.size());
    same["columns"] = int(view->columns().size());
    same["rollouts_shown"] = shown;
    o["same_prompt_columns"] = same;

    // The word diff of two other completions (on the GUI thread, synchronously).
    if (view->diffRight()->count() > 2) {
        probe.reset();
        t.restart();
        view->diffRight()->setCurrentIndex(view->diffRight()->count() - 1);
        o["word_diff_ms"] = double(t.nsecsElapsed()) / 1e6;
    }
    // And of two long completions (600 words each, every fifth word differing).
    {
        std::string a, b;
        for (int i = 0; i < 600; ++i) {
            a += "word" + std::to_string(i % 37) + " ";
            b += (i % 5 ? "word" + std::to_string(i % 37) : "other" + std::to_string(i)) + " ";
        }
        t.restart();
        const QString html = wordDiffHtml(a, b);
        o["word_diff_600_words_ms"] = double(t.nsecsElapsed()) / 1e6;
    }
    QJsonObject absent = phase(
        "same_prompt_absent", [&] { view->choosePrompt("other-1"); },
        [&] { return prompts == 2 && !panel.loader()->busy(); });
    o["same_prompt_absent"] = absent;

    o["runs"] = int(runs.size());
    o["steps"] = steps;
    o["rollouts"] = rollouts;
    o["workspace"] = keep_path.isEmpty() ? QString("temporary") : keep_path;
    o["platform"] = QApplication::platformName();
    if (keep_path.isEmpty()) {
        panel.setWorkspace({});
        store::Workspace::removeFiles(path.toStdString());
    }
    return o;
}

}  // namespace reflab::ui
