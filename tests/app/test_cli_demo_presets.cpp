// Every demo preset (resources/recipes/demo-*.json) trains for real on the shipped demo model:
// two steps each, shrunk (2 prompts x 4 samples, 8 eval problems) so the suite stays short; the
// run finishes, its rewards are finite and stored, its eval has a step-0 "before" and an
// "after", and train prints the held-out line.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/store/workspace.h"
#include "tests/app/cli_runner.h"
#include "tests/test_registry.h"

using namespace reflab;

class TestCliDemoPresets : public QObject {
    Q_OBJECT
private slots:
    void presetTrains_data() {
        QTest::addColumn<QString>("preset");
        for (const char* p :
             {"demo-nover", "demo-rgr", "demo-rlpr", "demo-rubric", "demo-reverse", "demo-oracle"})
            QTest::newRow(p) << QString(p);
    }
    void presetTrains() {
        QFETCH(QString, preset);
        QTemporaryDir dir;
        const std::string src =
            std::string(REFLAB_SOURCE_DIR) + "/resources/recipes/" + preset.toStdString() + ".json";
        nlohmann::json recipe = nlohmann::json::parse(std::ifstream(src));
        // Paths in presets are relative to the repository root: make them absolute here.
        recipe["model"]["path"] =
            std::string(REFLAB_SOURCE_DIR) + "/" + recipe["model"]["path"].get<std::string>();
        for (const char* split : {"train", "eval"})
            recipe["data"][split] =
                std::string(REFLAB_SOURCE_DIR) + "/" + recipe["data"][split].get<std::string>();
        recipe["algorithm"]["steps"] = 2;
        recipe["algorithm"]["prompts_per_step"] = 2;
        recipe["generation"]["group_size"] = 4;
        recipe["eval"]["every"] = 2;
        recipe["eval"]["max_prompts"] = 8;
        const QString recipe_path = dir.filePath("recipe.json");
        std::ofstream(recipe_path.toStdString()) << recipe.dump(2);
        const QString db = dir.filePath("w.db");
        const auto r = test::runCli(
            {"--threads", "1", "train", "--recipe", recipe_path, "--db", db, "--name", preset}, {},
            300000);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(
            r.out.contains("held-out accuracy:") && r.out.contains("(exact match, 8 problems)"),
            qPrintable(r.out));

        auto ws = store::Workspace::open(db.toStdString(), /*read_only=*/true);
        const auto runs = ws.listRuns();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, store::RunStatus::Finished);
        QCOMPARE(runs[0].step, int64_t(2));
        int train_rollouts = 0, eval_steps_seen = 0;
        bool eval_at_0 = false, eval_at_2 = false;
        store::RolloutFilter all;
        all.runs = {runs[0].id};
        const store::RolloutPage page = ws.rolloutPage(all, {}, std::nullopt, 1000);
        QVERIFY(!page.more);
        for (const auto& row : page.rows) {
            QVERIFY2(std::isfinite(row.total_reward), "reward is finite");
            if (row.is_eval) {
                eval_at_0 |= row.step == 0;
                eval_at_2 |= row.step == 2;
                ++eval_steps_seen;
            } else {
                ++train_rollouts;
            }
        }
        QCOMPARE(train_rollouts, 2 * 2 * 4);
        QVERIFY2(eval_at_0 && eval_at_2, "evaluated before (step 0) and after (step 2)");
        QCOMPARE(eval_steps_seen, 2 * 8);
    }
};

REFLAB_TEST_GUILESS(TestCliDemoPresets);
#include "test_cli_demo_presets.moc"
