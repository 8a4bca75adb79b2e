// The Rollouts inspector with a reward set (`reflab-cli rescore`): the set's total and
// components are extra columns "set:NAME/..." beside the run's components, filled on the rows
// the set scored and empty elsewhere, and a click on one sorts in the database. The set is
// written here through the store's writer with values chosen by hand.
#include <QAbstractItemModelTester>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/rollouts/rollouts_model.h"

using namespace reflab::ui;
namespace store = reflab::store;

class TestRolloutsSets : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_path;
    std::string m_run;
    std::vector<int64_t> m_ids;  // step 1's rollouts, in insertion order (scored by the set)

    int columnOf(const RolloutsModel& model, const QString& component) {
        for (int c = 0; c < model.columnCount(); ++c)
            if (model.columnKind(c) == RolloutsModel::Column::Component &&
                model.componentAt(c) == component)
                return c;
        return -1;
    }

private slots:
    void initTestCase() {
        m_path = m_dir.filePath("w.db");
        auto ws = store::Workspace::open(m_path.toStdString());
        store::NewRun nr;
        nr.name = "run";
        m_run = ws.createRun(nr);
        for (int64_t s = 1; s <= 2; ++s) {
            store::StepRecord rec;
            rec.step = s;
            for (int i = 0; i < 4; ++i) {
                store::RolloutRecord r;
                r.step = s;
                r.prompt_id = "q";
                r.sample = i;
                r.prompt = "Question";
                r.completion = "answer " + std::to_string(i);
                r.reference = "4";
                r.finish_reason = "eos";
                r.total_reward = 0.5 * i;
                r.components = {{"nover", 0.5 * i, nullptr}};
                rec.rollouts.push_back(std::move(r));
            }
            ws.writeStep(m_run, rec);
        }
        store::RolloutFilter f;
        f.runs = {m_run};
        f.step_min = f.step_max = 1;
        for (const auto& row : ws.rolloutPage(f).rows) m_ids.push_back(row.id);
        QCOMPARE(m_ids.size(), size_t(4));
        // Set "alt" scores step 1 only: total 3 - i, component "judge" = 10 * i.
        const auto set = ws.openRewardSet(m_run, "alt", R"({"rewards": [{"name": "judge"}]})");
        std::vector<store::SetRewardRecord> batch;
        for (int i = 0; i < 4; ++i) {
            store::SetRewardRecord r;
            r.rollout_id = m_ids[size_t(i)];
            r.total = 3.0 - i;
            r.components.push_back({"judge", 10.0 * i, nullptr});
            batch.push_back(r);
        }
        ws.writeSetRewards(set.id, batch);
        ws.setRunStatus(m_run, store::RunStatus::Finished);
    }

    void setColumnsBesideTheComponents() {
        RolloutsModel model;
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setWorkspace(m_path);
        store::RolloutFilter f;
        f.runs = {m_run};
        model.setQuery(f, {});
        QTRY_VERIFY_WITH_TIMEOUT(!model.loading(), 20000);
        QCOMPARE(model.rowCount(), 8);
        QCOMPARE(model.components(), (QStringList{"nover", "set:alt/total", "set:alt/judge"}));
        const int total = columnOf(model, "set:alt/total");
        const int judge = columnOf(model, "set:alt/judge");
        QVERIFY(total > 0 && judge > 0);
        QCOMPARE(model.headerData(judge, Qt::Horizontal, Qt::DisplayRole).toString(),
                 QString("set:alt/judge"));
        for (int row = 0; row < model.rowCount(); ++row) {
            model.index(row, 0).data();
            QTRY_VERIFY(model.rowAt(row));
            const auto* r = model.rowAt(row);
            const auto at = std::find(m_ids.begin(), m_ids.end(), r->id);
            if (at == m_ids.end()) {
                QVERIFY(!model.index(row, total).data().isValid());
                QVERIFY(!model.index(row, judge).data().isValid());
                continue;
            }
            const double i = double(at - m_ids.begin());
            QCOMPARE(model.index(row, total).data().toDouble(), 3.0 - i);
            QCOMPARE(model.index(row, judge).data().toDouble(), 10.0 * i);
        }

        // A click on the set's column sorts on its values: judge 30, 20, 10, 0, then the rest.
        model.sort(judge, Qt::DescendingOrder);
        QTRY_VERIFY_WITH_TIMEOUT(!model.loading(), 20000);
        for (int row = 0; row < 4; ++row) {
            model.index(row, 0).data();
            QTRY_VERIFY(model.rowAt(row));
            QCOMPARE(model.rowAt(row)->id, m_ids[size_t(3 - row)]);
        }
    }
};

REFLAB_TEST_GUI(TestRolloutsSets);
#include "test_rollouts_sets.moc"
