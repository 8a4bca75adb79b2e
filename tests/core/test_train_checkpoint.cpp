// core/train/checkpoint_state: trainer state (optimizer, generator RNG, scalars, extra tensors)
// written and read back equal, and errors that name the file; checkpoint_prune: keep the newest
// K checkpoints, in the store and on disk.
#include <QtTest>

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <fstream>

#include "core/store/workspace.h"
#include "core/train/checkpoint_prune.h"
#include "core/train/checkpoint_state.h"
#include "core/train/train_error.h"
#include "tests/test_registry.h"

using namespace reflab::train;
namespace fs = std::filesystem;

class TestTrainCheckpoint : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void dirNames() {
        QCOMPARE(checkpointDirName(10), std::string("step-000010"));
        QCOMPARE(checkpointDirName(1234567), std::string("step-1234567"));
    }
    void pruneKeepsTheNewest() {
        auto ws = reflab::store::Workspace::open(m_tmp.filePath("prune.db").toStdString());
        reflab::store::NewRun nr;
        nr.name = "r";
        nr.kind = "nover";
        nr.recipe_json = "{}";
        const std::string run = ws.createRun(nr);
        const fs::path root = m_tmp.filePath("prune.checkpoints").toStdString();
        auto addCk = [&](int64_t step, bool with_state) {
            const fs::path d = root / checkpointDirName(step);
            fs::create_directories(d);
            std::ofstream(d / "model.safetensors") << "weights";
            if (with_state) std::ofstream(d / kTrainerStateJson) << "{}";
            ws.addCheckpoint(run, step, d.string());
            return d;
        };
        auto steps = [&] {
            std::vector<int64_t> out;
            for (const auto& c : ws.checkpoints(run)) out.push_back(c.step);
            return out;
        };
        // A directory without trainer_state.json is not a checkpoint of ours: its row goes,
        // its files stay.
        const fs::path foreign = addCk(1, false);
        const fs::path d2 = addCk(2, true), d4 = addCk(4, true);
        QVERIFY(pruneCheckpoints(ws, run, 0).empty());  // 0: keep all
        QCOMPARE(steps(), (std::vector<int64_t>{1, 2, 4}));
        const fs::path d6 = addCk(6, true);
        ws.addCheckpoint(run, 6, d6.string());  // step 6 checkpointed twice: one checkpoint
        QCOMPARE(pruneCheckpoints(ws, run, 2), (std::vector<int64_t>{1, 2}));
        QCOMPARE(steps(), (std::vector<int64_t>{4, 6, 6}));
        QVERIFY(fs::exists(foreign / "model.safetensors"));
        QVERIFY(!fs::exists(d2));
        QVERIFY(fs::exists(d4 / kTrainerStateJson) && fs::exists(d6 / kTrainerStateJson));
        const fs::path d8 = addCk(8, true);
        QCOMPARE(pruneCheckpoints(ws, run, 2), (std::vector<int64_t>{4}));
        QVERIFY(!fs::exists(d4) && fs::exists(d6) && fs::exists(d8));
        QCOMPARE(ws.lastCheckpoint(run)->first, int64_t(8));
        QCOMPARE(pruneCheckpoints(ws, run, 5), std::vector<int64_t>{});  // fewer than K: none
    }
    void roundTripRestoresEverything() {
        const std::string dir = m_tmp.filePath("ck1").toStdString();
        fs::create_directories(dir);
        torch::manual_seed(1);
        auto w = torch::randn({5}).to(torch::kBFloat16).requires_grad_(true);
        PolicyOptimizer opt({w}, {});
        w.mutable_grad() = torch::randn({5}).to(torch::kBFloat16);
        opt.step(1e-2);
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(77);
        torch::randn({3}, gen);  // advance the stream
        auto proxy = torch::randn({2, 2});
        TrainerState st;
        st.step = 12;
        st.seed = 77;
        st.sampler_position = 48;
        st.run_id = "r1";
        st.extra["rlpr_ema"] = 0.125;
        saveTrainerState(dir, st, opt, gen, {{"proxy/w", proxy}});
        const auto next_draw = torch::randn({4}, gen);  // what the stream gives after the save

        auto w2 = w.detach().clone().requires_grad_(true);
        PolicyOptimizer opt2({w2}, {});
        at::Generator gen2 = at::make_generator<at::CPUGeneratorImpl>(1);
        auto proxy2 = torch::zeros({2, 2});
        const auto back = loadTrainerState(dir, opt2, gen2, {{"proxy/w", proxy2}});
        QCOMPARE(back.step, int64_t(12));
        QCOMPARE(back.seed, uint64_t(77));
        QCOMPARE(back.sampler_position, int64_t(48));
        QCOMPARE(back.run_id, std::string("r1"));
        QCOMPARE(back.extra["rlpr_ema"].get<double>(), 0.125);
        QCOMPARE(opt2.stepCount(), int64_t(1));
        QVERIFY(torch::equal(opt2.masterWeight(0), opt.masterWeight(0)));
        QVERIFY(torch::equal(proxy2, proxy));
        QVERIFY(torch::equal(torch::randn({4}, gen2), next_draw));
    }
    void missingStateNamesTheFile() {
        const std::string dir = m_tmp.filePath("empty").toStdString();
        fs::create_directories(dir);
        auto w = torch::zeros({1}).requires_grad_(true);
        PolicyOptimizer opt({w}, {});
        at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
        try {
            loadTrainerState(dir, opt, gen);
            QFAIL("expected TrainError");
        } catch (const TrainError& e) {
            QVERIFY(QString(e.what()).contains("trainer_state.json"));
        }
        std::ofstream(dir + "/trainer_state.json")
            << "{\"step\": 1, \"seed\": 1, \"sampler_position\": 0, \"run_id\": \"x\"}";
        try {
            loadTrainerState(dir, opt, gen);
            QFAIL("expected TrainError");
        } catch (const TrainError& e) {
            QVERIFY(QString(e.what()).contains("trainer_state.pt"));
        }
    }
};

REFLAB_TEST_APPLESS(TestTrainCheckpoint);
#include "test_train_checkpoint.moc"
