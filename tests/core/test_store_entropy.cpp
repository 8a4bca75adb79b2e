// core/store per-token entropies (schema v6): stored beside the log-probs as float16 in
// rollout_payload.entropies (the bytes this test reads with its own SQL and decodes by hand),
// read back by rollout(), absent (not zeros) for a rollout written without them; a count that
// is not the token count is refused naming the field, with nothing of the step stored; a
// schema-5 workspace is copied, then migrated, and keeps its rollouts.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

#include "core/store/sqlite_db.h"
#include "core/store/store_codec.h"
#include "core/store/store_error.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;
using store_test::dbPath;

namespace {

std::string entropyRun(Workspace& ws, const std::string& name) {
    NewRun nr;
    nr.name = name;
    nr.kind = "nover";
    return ws.createRun(nr);
}

// Values that float16 holds exactly (multiples of 1/8 below 8): what is read back is them.
std::vector<float> entropiesFor(const RolloutRecord& r) {
    std::vector<float> e;
    for (size_t t = 0; t < r.token_ids.size(); ++t)
        e.push_back(0.125f * static_cast<float>((t * 5 + static_cast<size_t>(r.sample)) % 40));
    return e;
}

// The id of every rollout of `run`, by (step, group, sample), read with this test's own SQL.
std::vector<int64_t> entropyRolloutIds(const std::string& path) {
    SqliteDb db(path, true, false);
    SqliteStatement st(db, "SELECT id FROM rollouts ORDER BY step, grp, sample");
    std::vector<int64_t> out;
    while (st.step()) out.push_back(st.int64(0));
    return out;
}

}  // namespace

class TestStoreEntropy : public QObject {
    Q_OBJECT
private slots:
    void storedBesideTheLogprobs() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string run = entropyRun(ws, "r");
        StepRecord s = store_test::makeStep(1, 2, 2);
        // Group 0 with entropies, group 1 without (an older run's rows look like these).
        for (RolloutRecord& r : s.rollouts)
            if (r.group == 0) r.entropies = entropiesFor(r);
        ws.writeStep(run, s);

        const std::vector<int64_t> ids = entropyRolloutIds(path);
        QCOMPARE(ids.size(), size_t(4));
        SqliteDb db(path, true, false);
        for (size_t i = 0; i < ids.size(); ++i) {
            const RolloutRecord& want = s.rollouts[i];
            SqliteStatement st(db, "SELECT entropies FROM rollout_payload WHERE rollout_id = ?");
            st.bind(1, ids[i]);
            QVERIFY(st.step());
            const auto got = ws.rollout(ids[i], false);
            QVERIFY(got);
            if (want.group == 1) {
                QVERIFY(st.isNull(0));
                QVERIFY(got->record.entropies.empty());
                continue;
            }
            // The bytes: a one-byte count (6 < 128), then binary16 little-endian per token.
            const std::string_view blob = st.blobView(0);
            QCOMPARE(blob.size(), size_t(1 + 2 * want.token_ids.size()));
            QCOMPARE(static_cast<size_t>(static_cast<uint8_t>(blob[0])), want.token_ids.size());
            for (size_t t = 0; t < want.token_ids.size(); ++t) {
                const _Float16 h = static_cast<_Float16>(want.entropies[t]);
                uint16_t bits;
                std::memcpy(&bits, &h, 2);
                QCOMPARE(int(static_cast<uint8_t>(blob[1 + 2 * t])), int(bits & 0xff));
                QCOMPARE(int(static_cast<uint8_t>(blob[2 + 2 * t])), int(bits >> 8));
            }
            QCOMPARE(got->record.entropies, want.entropies);
            QCOMPARE(got->record.logprobs, want.logprobs);  // untouched beside them
        }
    }

    void wrongCountRefusedByName() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        auto ws = Workspace::open(path);
        const std::string run = entropyRun(ws, "r");
        StepRecord s = store_test::makeStep(1, 1, 2);
        s.rollouts[1].entropies = {0.5f};  // 6 tokens
        try {
            ws.writeStep(run, s);
            QFAIL("a rollout with 1 entropy for 6 tokens was stored");
        } catch (const StoreError& e) {
            QVERIFY2(std::string(e.what()).find("entropies") != std::string::npos, e.what());
        }
        QVERIFY(entropyRolloutIds(path).empty());
        // A malformed blob (a count of 3, the values of 2) is refused on decoding.
        const std::string bad = std::string("\x03", 1) + std::string(4, '\0');
        QVERIFY_THROWS_EXCEPTION(StoreError, decodeHalves(bad, "t"));
    }

    void version5IsCopiedThenMigrated() {
        QTemporaryDir dir;
        const std::string path = dbPath(dir);
        std::string run;
        {
            auto ws = Workspace::open(path);
            run = entropyRun(ws, "old");
            ws.writeStep(run, store_test::makeStep(1, 1, 2));
        }
        {
            // Back to schema 5, as RefLab wrote it before entropies.
            SqliteDb db(path, false, false);
            db.exec(std::string(store_test::kUndoSchema7) +
                    "ALTER TABLE rollout_payload DROP COLUMN entropies; PRAGMA user_version = 5");
        }
        QVERIFY_THROWS_EXCEPTION(StoreError, Workspace::open(path, /*read_only=*/true));
        auto ws = Workspace::open(path);
        QCOMPARE(ws.schemaVersion(), 7);
        QVERIFY(QFile::exists(QString::fromStdString(path + ".schema5.bak")));
        std::vector<int64_t> ids = entropyRolloutIds(path);
        QCOMPARE(ids.size(), size_t(2));
        for (const int64_t id : ids) {
            const auto d = ws.rollout(id, false);
            QVERIFY(d && d->record.entropies.empty() && d->record.token_ids.size() == 6);
        }
        StepRecord s = store_test::makeStep(2, 1, 1);
        s.rollouts[0].entropies = entropiesFor(s.rollouts[0]);
        ws.writeStep(run, s);
        ids = entropyRolloutIds(path);
        QCOMPARE(ids.size(), size_t(3));
        QCOMPARE(ws.rollout(ids[2], false)->record.entropies, s.rollouts[0].entropies);
    }
};

REFLAB_TEST_APPLESS(TestStoreEntropy);
#include "test_store_entropy.moc"
