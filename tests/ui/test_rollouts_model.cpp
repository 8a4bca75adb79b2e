// RolloutsModel on a generated large workspace, under QAbstractItemModelTester: every row is
// reachable by scrolling (keyset marks, no OFFSET), pages arrive from the loader thread, the
// row cache stays bounded, a sort or a filter re-queries in the database.
//
// Size: REFLAB_TEST_ROLLOUTS rollouts (default 60,000, for the suite's time; the speed figures
// on a million rows come from `reflab --bench-rollouts`). With REFLAB_TEST_ROLLOUTS=1000000
// (999,936 rollouts) it passed in 68 s on the shared 2-core machine, 28 s of it writing.
#include <QAbstractItemModelTester>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/rollouts/rollouts_model.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace {

constexpr int kGroups = 16, kSamples = 8;  // 128 rollouts per step

// Rollout (run k, step s, group g, sample i): reward ((s * 7 + g * 3 + i) % 13) / 4.
std::vector<std::string> writeWorkspace(const std::string& path, int64_t rollouts) {
    auto ws = store::Workspace::open(path);
    std::vector<std::string> runs;
    for (int k = 0; k < 2; ++k) {
        store::NewRun nr;
        nr.name = "big" + std::to_string(k);
        runs.push_back(ws.createRun(nr));
    }
    const int64_t per_step = kGroups * kSamples;
    const int64_t steps = rollouts / per_step / 2;
    for (int64_t s = 0; s < steps; ++s) {
        for (int k = 0; k < 2; ++k) {
            store::StepRecord rec;
            rec.step = s;
            for (int g = 0; g < kGroups; ++g)
                for (int i = 0; i < kSamples; ++i) {
                    store::RolloutRecord r;
                    r.step = s;
                    r.prompt_id = "q" + std::to_string(g);
                    r.group = g;
                    r.sample = i;
                    r.prompt = "Question " + std::to_string(g);
                    r.completion = "answer " + std::to_string(i);
                    r.reference = std::to_string(g);
                    r.finish_reason = i % 4 ? "eos" : "length";
                    r.total_reward = double((s * 7 + g * 3 + i) % 13) / 4.0;
                    r.completion_tokens = 10 + i;
                    r.format_valid = i % 3 != 0;
                    r.components = {{"nover", 0.1 * i, nullptr}};
                    rec.rollouts.push_back(std::move(r));
                }
            ws.writeStep(runs[size_t(k)], rec);
        }
    }
    for (const auto& r : runs) ws.setRunStatus(r, store::RunStatus::Finished);
    return runs;
}

// Asks for the page of `row` and waits for it: returns as soon as the loader's dataChanged
// arrives (QTRY_VERIFY polls in 50 ms sleeps, which made the page loop below take 30 s).
bool loadRow(RolloutsModel& model, int row, int column = 0) {
    QSignalSpy arrived(&model, &QAbstractItemModel::dataChanged);
    const QModelIndex at = model.index(row, column);
    at.data();
    QElapsedTimer waited;
    waited.start();
    while (!at.data(RolloutsModel::LoadedRole).toBool()) {
        if (waited.elapsed() > 20000) return false;
        arrived.wait(200);
    }
    return true;
}

}  // namespace

class TestRolloutsModel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_path;
    std::vector<std::string> m_runs;
    int64_t m_total = 0;

private slots:
    void initTestCase() {
        const int64_t want = qEnvironmentVariableIntValue("REFLAB_TEST_ROLLOUTS") > 0
                                 ? qEnvironmentVariableIntValue("REFLAB_TEST_ROLLOUTS")
                                 : 60000;
        m_path = m_dir.filePath("big.db");
        QElapsedTimer t;
        t.start();
        m_runs = writeWorkspace(m_path.toStdString(), want);
        m_total = (want / (kGroups * kSamples) / 2) * kGroups * kSamples * 2;
        qInfo("wrote %lld rollouts in %.1f s", static_cast<long long>(m_total),
              double(t.elapsed()) / 1000.0);
    }

    void everyRowReachable() {
        // No QAbstractItemModelTester here: it reads every row after each page arrives (36 s
        // over 60,000 rows); sortAndFilterInTheDatabase and the click test run it.
        RolloutsModel model;
        model.setWorkspace(m_path);
        store::RolloutFilter f;
        f.runs = m_runs;
        model.setQuery(f, {});
        QTRY_VERIFY_WITH_TIMEOUT(!model.loading(), 60000);
        QCOMPARE(model.rowCount(), int(m_total));
        QCOMPARE(model.count(), m_total);
        QVERIFY(model.countExact());
        QCOMPARE(model.columnOf(RolloutsModel::Column::Run), 0);  // two runs: a run column
        // Insertion order: row i is rollout id i + 1. Jump around, including the very end.
        const int last = int(m_total) - 1;
        for (const int row : {last, 0, last / 2, 12345 % last, last - 250, 777}) {
            QVERIFY(loadRow(model, row, 1));
            QCOMPARE(model.index(row, 1).data(RolloutsModel::RolloutIdRole).toLongLong(),
                     qint64(row) + 1);
        }
        // Touching many pages keeps the cache bounded.
        for (int p = 0; p < 3 * RolloutsModel::kCachePages; ++p) {
            const int row = int((qint64(p) * 7919 * RolloutsModel::kPageRows) % m_total);
            QVERIFY(loadRow(model, row));
            QVERIFY(model.cachedPages() <= RolloutsModel::kCachePages);
        }
    }

    void sortAndFilterInTheDatabase() {
        RolloutsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setWorkspace(m_path);
        store::RolloutFilter f;
        f.runs = {m_runs[1]};
        model.setQuery(f, {});
        QTRY_VERIFY_WITH_TIMEOUT(!model.loading(), 60000);
        QCOMPARE(model.rowCount(), int(m_total / 2));
        QCOMPARE(model.columnOf(RolloutsModel::Column::Run), -1);  // one run: no run column
        const int reward = model.columnOf(RolloutsModel::Column::Reward);
        model.sort(reward, Qt::DescendingOrder);
        QTRY_VERIFY_WITH_TIMEOUT(!model.loading(), 60000);
        QCOMPARE(model.rowCount(), int(m_total / 2));
        // The highest reward of the generator is 12 / 4 = 3; the lowest 0, at the very end.
        QTRY_VERIFY(model.index(0, reward).data(RolloutsModel::LoadedRole).toBool());
        QCOMPARE(model.rowAt(0)->total_reward, 3.0);
        double prev = 3.0;
        for (int row = 0; row < RolloutsModel::kPageRows; ++row) {
            QVERIFY(model.rowAt(row)->total_reward <= prev);
            prev = model.rowAt(row)->total_reward;
        }
        const int last = model.rowCount() - 1;
        model.index(last, reward).data();
        QTRY_VERIFY(model.index(last, reward).data(RolloutsModel::LoadedRole).toBool());
        QCOMPARE(model.rowAt(last)->total_reward, 0.0);

        // Steps [3, 5], format invalid: 3 steps x 16 groups x 3 samples (0, 3, 6).
        f.step_min = 3;
        f.step_max = 5;
        f.format_valid = false;
        model.setQuery(f, model.sortSpec());
        QTRY_VERIFY_WITH_TIMEOUT(!model.loading(), 60000);
        QCOMPARE(model.rowCount(), 3 * kGroups * 3);
        QCOMPARE(model.count(), qint64(3 * kGroups * 3));
        for (int row = 0; row < model.rowCount(); ++row) {
            model.index(row, 0).data();
            QTRY_VERIFY(model.rowAt(row));
            QVERIFY(model.rowAt(row)->step >= 3 && model.rowAt(row)->step <= 5);
            QVERIFY(!model.rowAt(row)->format_valid);
        }
    }

    void noRunNoRows() {
        RolloutsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setWorkspace(m_path);
        model.setQuery({}, {});
        QCOMPARE(model.rowCount(), 0);
        QVERIFY(!model.loading());
    }
};

REFLAB_TEST_GUI(TestRolloutsModel);
#include "test_rollouts_model.moc"
