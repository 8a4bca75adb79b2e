// The Rollouts view benchmark (see rollouts_bench.h).
#include "ui/bench/rollouts_bench.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QLineEdit>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>

#include "core/store/workspace.h"
#include "ui/bench/synthetic_workspace.h"
#include "ui/rollouts/rollout_detail_view.h"
#include "ui/rollouts/rollout_filter_bar.h"
#include "ui/rollouts/rollouts_model.h"
#include "ui/rollouts/rollouts_panel.h"

namespace reflab::ui {

namespace {

// Runs the event loop until `done` (or timeout_ms); returns the milliseconds it took (-1 on
// timeout). The probe timer keeps measuring stalls meanwhile.
template <class Pred>
double waitFor(Pred done, int timeout_ms = 120000) {
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeout_ms) return -1;
        QApplication::processEvents(QEventLoop::AllEvents, 2);
    }
    return double(t.nsecsElapsed()) / 1e6;
}

}  // namespace

QJsonObject benchRollouts(int rollouts, const QString& workspace) {
    QTemporaryDir dir;
    const QString path = workspace.isEmpty() ? dir.filePath("rollouts.db") : workspace;
    QStringList runs;
    QElapsedTimer gen;
    gen.start();
    const bool reuse = !workspace.isEmpty() && QFileInfo::exists(workspace);
    {
        // Written (or, reused, read) on a thread of its own, as every store call of the GUI is.
        auto written = std::async(std::launch::async, [file = path.toStdString(), rollouts, reuse] {
            QStringList ids;
            if (reuse) {
                auto ws = store::Workspace::open(file, /*read_only=*/true);
                for (const store::RunInfo& r : ws.listRuns()) ids << QString::fromStdString(r.id);
                return ids;
            }
            auto ws = store::Workspace::open(file);
            const int per_step = 512;  // 64 groups of 8
            const int steps = std::max(1, rollouts / per_step / 2);
            for (int r = 0; r < 2; ++r) {
                const std::string id =
                    createSyntheticRun(ws, "bench " + std::to_string(r), steps, r);
                writeSyntheticSteps(ws, id, 0, steps, per_step, r, 1.7e9);
                ws.setRunStatus(id, store::RunStatus::Finished);
                ids << QString::fromStdString(id);
            }
            return ids;
        });
        // The event loop runs meanwhile, polled rather than spun: the writer needs the core.
        QEventLoop idle;
        QTimer poll;
        QObject::connect(&poll, &QTimer::timeout, [&] {
            if (written.wait_for(std::chrono::seconds(0)) == std::future_status::ready) idle.quit();
        });
        poll.start(20);
        idle.exec();
        runs = written.get();  // rethrows the writer's error
    }
    const double generate_s = double(gen.elapsed()) / 1000.0;

    // The stall probe: the longest gap between ticks of a 5 ms timer, overall and per phase.
    double max_gap = 0, phase_gap = 0, last = 0;
    QElapsedTimer clock;
    clock.start();
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const double now = double(clock.nsecsElapsed()) / 1e6;
        max_gap = std::max(max_gap, now - last);
        phase_gap = std::max(phase_gap, now - last);
        last = now;
    });
    QJsonObject stalls;
    // Ends a phase: its longest stall, the gap still open included.
    const auto endPhase = [&](const char* name) {
        const double open = double(clock.nsecsElapsed()) / 1e6 - last;
        stalls[name] = std::max(phase_gap, open);
        max_gap = std::max(max_gap, open);
        phase_gap = 0;
    };

    RolloutsPanel panel;
    panel.resize(1600, 1000);
    panel.show();
    RolloutsModel* model = panel.model();
    QApplication::processEvents();
    last = double(clock.nsecsElapsed()) / 1e6;
    probe.start();

    QJsonObject o;
    QElapsedTimer t;
    t.start();
    panel.setWorkspace(path);
    panel.setRunSelection(runs, {});
    const auto rowLoaded = [&](int row) {
        return row < model->rowCount() &&
               model->index(row, 0).data(RolloutsModel::LoadedRole).toBool();
    };
    waitFor([&] { return rowLoaded(0); });
    o["open_first_page_ms"] = double(t.nsecsElapsed()) / 1e6;
    o["marks_complete_ms"] =
        waitFor([&] { return !model->loading(); }) + o["open_first_page_ms"].toDouble();
    o["rows"] = model->rowCount();
    endPhase("open");

    // Jumps: scroll to far rows and wait for the rows in view.
    std::vector<double> jumps;
    for (const double at : {0.5, 0.97, 0.13, 0.71, 0.999}) {
        const int row = int(at * (model->rowCount() - 1));
        t.restart();
        panel.table()->scrollTo(model->index(row, 0), QAbstractItemView::PositionAtCenter);
        waitFor([&] { return rowLoaded(row); });
        jumps.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    std::sort(jumps.begin(), jumps.end());
    o["jump_rows_ms_median"] = jumps[jumps.size() / 2];
    o["jump_rows_ms_max"] = jumps.back();
    endPhase("jumps");

    // A filtered, sorted page: format invalid, reward in [0, 0.5], sorted by reward descending.
    store::RolloutFilter f = model->filter();
    f.format_valid = false;
    f.reward_min = 0.0;
    f.reward_max = 0.5;
    t.restart();
    store::RolloutSort by_reward{store::RolloutSortKey::TotalReward, "", true};
    model->setQuery(f, by_reward);
    waitFor([&] { return rowLoaded(0) || (!model->loading() && model->rowCount() == 0); });
    o["filtered_sorted_first_page_ms"] = double(t.nsecsElapsed()) / 1e6;
    waitFor([&] { return !model->loading(); });
    endPhase("filtered_sorted");

    // Text search (the panel's own path: the search box, minus its typing pause) for a rare
    // needle (a few thousand rows), a frequent one (in every completion) and one of one and of
    // two characters (too short for the trigram index: every row is confirmed). The first page
    // comes first; the exact count arrives later, from the loader thread. `rows_at_half_ms`:
    // a jump to the middle of the matches once they are counted.
    QJsonObject searches;
    const std::pair<const char*, const char*> needles[] = {
        {"rare", "So 120"}, {"frequent", "then"}, {"one_char", "e"}, {"two_chars", "+ "}};
    for (const auto& [name, needle] : needles) {
        QJsonObject r;
        r["needle"] = needle;
        t.restart();
        store::RolloutFilter s;
        for (const QString& run : runs) s.runs.push_back(run.toStdString());
        s.text = needle;
        model->setQuery(s, {});
        waitFor([&] { return rowLoaded(0) || (!model->loading() && model->rowCount() == 0); });
        r["first_page_ms"] = double(t.nsecsElapsed()) / 1e6;
        waitFor([&] { return model->count() >= 0; });
        r["first_count_ms"] = double(t.nsecsElapsed()) / 1e6;  // an estimate, or exact
        r["first_count_exact"] = model->countExact();
        waitFor([&] { return model->count() >= 0 && model->countExact(); });
        r["count_ms"] = double(t.nsecsElapsed()) / 1e6;
        r["count"] = double(model->count());
        r["count_exact"] = model->countExact();
        waitFor([&] { return !model->loading(); });
        r["marks_complete_ms"] = double(t.nsecsElapsed()) / 1e6;
        if (model->rowCount() > 0) {
            const int row = model->rowCount() / 2;
            QElapsedTimer j;
            j.start();
            panel.table()->scrollTo(model->index(row, 0), QAbstractItemView::PositionAtCenter);
            waitFor([&] { return rowLoaded(row); });
            r["rows_at_half_ms"] = double(j.nsecsElapsed()) / 1e6;
        }
        endPhase(name);
        r["max_stall_ms"] = stalls[name];
        searches[name] = r;
    }
    o["text_search"] = searches;

    // The detail pane: 512 tokens coloured by log-prob (rendering only; the fetch is the
    // loader's, off this thread).
    auto d = std::make_shared<store::RolloutDetail>();
    for (int i = 0; i < 512; ++i) {
        d->record.token_ids.push_back(1000 + i);
        d->record.logprobs.push_back(-0.02f * float(i % 200));
        d->token_texts.push_back(i % 9 ? " tok" : "\n");
    }
    d->record.completion_tokens = 512;
    std::vector<double> detail;
    for (int i = 0; i < 5; ++i) {
        t.restart();
        panel.detailView()->setDetail(d, {});
        QApplication::processEvents();
        detail.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    std::sort(detail.begin(), detail.end());
    o["detail_512_tokens_ms_median"] = detail[detail.size() / 2];
    endPhase("detail");

    probe.stop();
    o["max_event_loop_stall_ms"] = max_gap;
    o["event_loop_stall_ms_by_phase"] = stalls;
    o["generate_workspace_s"] = generate_s;
    o["platform"] = QApplication::platformName();
    return o;
}

}  // namespace reflab::ui
