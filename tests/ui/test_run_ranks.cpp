// The GUI's Start with "processes: N": the Setup panel offers the count, and RunController
// launches that many `reflab-cli train` ranks with torchrun's environment on a free loopback
// port. They make one run, written by rank 0, and all exit 0. Skipped where the build has no
// c10d.
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/store/workspace.h"
#include "core/train/distributed.h"
#include "tests/test_registry.h"
#include "ui/runs/run_controller.h"
#include "ui/setup/setup_panel.h"

using namespace reflab;

class TestRunRanks : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qputenv("REFLAB_CLI", REFLAB_BIN_DIR "/reflab-cli"); }

    void setupOffersProcesses() {
        ui::SetupPanel panel;
        auto* spin = panel.findChild<QSpinBox*>("processes");
        QVERIFY(spin);
        QCOMPARE(spin->minimum(), 1);
        QCOMPARE(panel.processes(), 1);  // one process unless asked
        spin->setMaximum(4);
        spin->setValue(3);
        QCOMPARE(panel.processes(), 3);
    }

    void twoRanksMakeOneRun() {
        if (!train::Communicator::available()) QSKIP("no c10d/Gloo in this build");
        QTemporaryDir dir;
        const nlohmann::json recipe = {
            {"version", 1},
            {"name", "ranks"},
            {"model", {{"path", REFLAB_TEST_DATA "/models/tiny-qwen2"}, {"dtype", "float32"}}},
            {"data",
             {{"train", REFLAB_SOURCE_DIR "/resources/data/demo_train.jsonl"},
              {"prompt_field", "question"},
              {"reference_field", "answer"}}},
            {"generation", {{"group_size", 4}, {"max_new_tokens", 8}}},
            {"rewards", {{{"type", "format"}, {"weight", 1}}}},
            {"algorithm", {{"prompts_per_step", 2}, {"steps", 2}, {"lr", 1e-3}}},
            {"eval", {{"every", 0}}}};
        const QString recipe_path = dir.filePath("r.json");
        std::ofstream(recipe_path.toStdString()) << recipe.dump(2);
        const QString db = dir.filePath("w.db");
        store::Workspace::open(db.toStdString());  // created here, as File > New does

        ui::RunController controller;
        controller.setWorkspace(db);
        QSignalSpy finished(&controller, &ui::RunController::childFinished);
        QString error;
        QVERIFY2(controller.startRun(recipe_path, "dp", &error, {}, -1, 2), qPrintable(error));
        QCOMPARE(controller.activeChildren(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 120000);
        QStringList described;
        for (const auto& args : finished) {
            QVERIFY2(args.at(1).toInt() == 0, qPrintable(args.at(2).toString()));
            described << args.at(0).toString();
        }
        described.sort();
        QCOMPARE(described, QStringList({"train dp (rank 0 of 2)", "train dp (rank 1 of 2)"}));

        auto ws = store::Workspace::open(db.toStdString(), true);
        const auto runs = ws.listRuns();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, store::RunStatus::Finished);
        QCOMPARE(runs[0].step, int64_t(2));
        store::RolloutFilter f;
        f.runs = {runs[0].id};
        f.step_min = f.step_max = 2;
        QCOMPARE(ws.rolloutPage(f, {}, std::nullopt, 100).rows.size(), size_t(8));  // 2 x 4
    }
};

REFLAB_TEST_GUI(TestRunRanks);
#include "test_run_ranks.moc"
