// core/store: runs, steps, metrics and one rollout written and read back field by field; the
// token/log-prob codec against hand-computed bytes; a span of detokenized text by hand; metric
// decimation keeps every extreme.
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

#include <cmath>

#include "core/store/sqlite_db.h"
#include "core/store/store_codec.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;
using store_test::dbPath;
using store_test::makeRollout;
using store_test::makeStep;

class TestStore : public QObject {
    Q_OBJECT
private slots:
    void halfFloatMatchesIeeeBits() {
        // binary16: sign | 5-bit exponent (bias 15) | 10-bit fraction.
        QCOMPARE(floatToHalf(1.0f), uint16_t(0x3C00));     // 0 01111 0000000000
        QCOMPARE(floatToHalf(-2.0f), uint16_t(0xC000));    // 1 10000 0000000000
        QCOMPARE(floatToHalf(0.5f), uint16_t(0x3800));     // 0 01110 0000000000
        QCOMPARE(floatToHalf(-0.125f), uint16_t(0xB000));  // 1 01100 0000000000
        QCOMPARE(halfToFloat(0x3555), 0.333251953125f);    // (1 + 341/1024) * 2^-2
        QVERIFY(std::isinf(halfToFloat(floatToHalf(-INFINITY))));
    }

    void tokenBlobBytesAreVarintThenHalf() {
        // 300 = 0b10'0101100 -> low 7 bits 0x2C with the continuation bit (0xAC), then 0x02.
        const std::string blob = encodeTokens({1, 300}, {-0.5f, 1.0f});
        const std::string expected = std::string("\x01\x02\x01\xAC\x02", 5) +
                                     std::string("\x00\xB8\x00\x3C", 4);  // -0.5 = 0xB800 LE
        QCOMPARE(QByteArray::fromStdString(blob), QByteArray::fromStdString(expected));
        std::vector<int32_t> ids;
        std::vector<float> lps;
        decodeTokens(blob, ids, lps, "t");
        QCOMPARE(ids, (std::vector<int32_t>{1, 300}));
        QCOMPARE(lps, (std::vector<float>{-0.5f, 1.0f}));
        QVERIFY_THROWS_EXCEPTION(StoreError, decodeTokens(blob.substr(0, 6), ids, lps, "t"));
        QVERIFY_THROWS_EXCEPTION(StoreError, encodeTokens({1, 2}, {0.0f}));
    }

    void detokenizeSpanCopiesOnlyTheSpan() {
        // Tokens "ab" "c" "de" "f": the concatenation "abcdef"; spans written out by hand.
        const std::vector<std::string> vocab = {"ab", "c", "de", "f"};
        const std::vector<int32_t> ids = {0, 1, 2, 3};
        std::string out;
        size_t size = 0;
        QVERIFY(detokenizeSpan(vocab, ids, 1, 3, out, size));
        QCOMPARE(out, std::string("bcd"));  // across three tokens, cut inside the first and last
        QCOMPARE(size, size_t{6});
        QVERIFY(detokenizeSpan(vocab, ids, 4, 100, out, size));
        QCOMPARE(out, std::string("ef"));  // clipped at the end, as substr does
        QVERIFY(detokenizeSpan(vocab, ids, 6, 2, out, size));
        QCOMPARE(out, std::string());
        QVERIFY(detokenizeSpan(vocab, ids, 9, 1, out, size));
        QCOMPARE(size, size_t{6});  // the caller sees the span lies outside
        QVERIFY(!detokenizeSpan(vocab, {0, 4}, 0, 1, out, size));  // id 4: not in the vocabulary
    }

    void runLifecycle() {
        QTemporaryDir dir;
        auto ws = Workspace::open(dbPath(dir));
        NewRun nr;
        nr.name = "first";
        nr.kind = "nover";
        nr.recipe_json = R"({"kind":"nover","lr":1e-5})";
        nr.model_path = "/models/tiny";
        nr.model_hash = "abc123";
        nr.code_version = "0.1.0";
        nr.seed = 0xFFFFFFFFFFFFFFF0ULL;  // above INT64_MAX: must survive the INTEGER column
        nr.steps = 10;
        const std::string a = ws.createRun(nr);
        nr.name = "fork";
        nr.parent_run = a;
        nr.parent_step = 3;
        const std::string b = ws.createRun(nr);
        QVERIFY(a != b);

        auto runs = ws.listRuns();
        QCOMPARE(runs.size(), size_t(2));
        QCOMPARE(runs[0].id, a);
        QCOMPARE(runs[0].name, std::string("first"));
        QCOMPARE(runs[0].status, RunStatus::Running);
        QCOMPARE(runs[0].step, int64_t(-1));
        QCOMPARE(runs[0].seed, 0xFFFFFFFFFFFFFFF0ULL);
        QCOMPARE(runs[0].recipe_json, nr.recipe_json);
        QCOMPARE(runs[0].model_hash, std::string("abc123"));
        QCOMPARE(runs[1].parent_run, a);
        QCOMPARE(runs[1].parent_step, int64_t(3));
        QCOMPARE(runs[0].writer_pid, int64_t(::getpid()));

        ws.writeStep(a, makeStep(0, 2, 3));
        ws.writeStep(a, makeStep(1, 2, 3));
        QCOMPARE(ws.run(a)->step, int64_t(1));
        ws.addCheckpoint(a, 1, "/ckpt/1");
        ws.addEvent(a, "hello");
        QCOMPARE(ws.lastCheckpoint(a)->second, std::string("/ckpt/1"));
        QCOMPARE(ws.events(a).back().text, std::string("hello"));
        ws.setBestEval(a, 0.75);
        QCOMPARE(*ws.run(a)->best_eval, 0.75);
        ws.renameRun(a, "renamed");
        QCOMPARE(ws.run(a)->name, std::string("renamed"));
        ws.setRunStatus(a, RunStatus::Finished);
        QCOMPARE(ws.run(a)->status, RunStatus::Finished);

        const auto recipes = ws.recipes({b, a});
        QCOMPARE(recipes[0].first, b);
        QCOMPARE(recipes[1].second["lr"].get<double>(), 1e-5);
        QVERIFY_THROWS_EXCEPTION(StoreError, ws.recipes({"nope"}));

        // Resume from the checkpoint at step 0: step 1 is dropped.
        ws.setRunStatus(a, RunStatus::Running);
        ws.truncateRun(a, 0);
        QCOMPARE(ws.run(a)->step, int64_t(0));
        RolloutFilter fa;
        fa.runs = {a};
        QCOMPARE(ws.rolloutCount(fa).count, int64_t(6));

        ws.deleteRun(b);
        QCOMPARE(ws.listRuns().size(), size_t(1));
        QVERIFY(!ws.run(b));
        QVERIFY_THROWS_EXCEPTION(StoreError, ws.writeStep(b, makeStep(0, 1, 1)));
        QCOMPARE(runStatusFromName("interrupted"), RunStatus::Interrupted);
        QVERIFY_THROWS_EXCEPTION(StoreError, runStatusFromName("paused"));
    }

    void rolloutRoundTripsEveryField() {
        QTemporaryDir dir;
        auto ws = Workspace::open(dbPath(dir));
        NewRun nr;
        nr.name = "r";
        // Vocabulary: ids 0..3 are the tags; the completion below is exactly their concatenation
        // and must come back from the tokens alone.
        nr.vocabulary = {"<think>", "</think>", "<answer>", "</answer>", "2 + 2", " is", " 4"};
        const std::string run = ws.createRun(nr);
        StepRecord s;
        s.step = 7;
        RolloutRecord r = makeRollout(7, 1, 2, 0);
        r.token_ids = {0, 4, 5, 6, 1, 2, 6, 3};
        r.logprobs = {-0.5f, -1.25f, -0.0009765625f, -3.0f, 0.0f, -0.25f, -7.5f, -0.125f};
        r.completion = "<think>2 + 2 is 4</think><answer> 4</answer>";
        r.reasoning = "2 + 2 is 4";
        r.answer = "4";  // a substring of the completion, stored as a span
        r.correct = std::nullopt;
        r.components[1].details = {
            {"P_r", 3.25}, {"rank", 2}, {"R_r", 0.5}, {"R_e", 0}, {"valid", true}};
        RolloutRecord other = makeRollout(7, 1, 3);  // same group, not derivable from tokens
        other.reasoning = "text that is not inside the completion";
        s.rollouts = {r, other};
        s.metrics = {{"reward/total", 1.5}, {"nan/metric", std::nan("")}};
        ws.writeStep(run, s);

        RolloutFilter f;
        f.runs = {run};
        const RolloutPage page = ws.rolloutPage(f);
        QCOMPARE(page.rows.size(), size_t(2));
        const auto d = ws.rollout(page.rows[0].id);
        QVERIFY(d);
        const RolloutRecord& g = d->record;
        QCOMPARE(d->run, run);
        QCOMPARE(g.step, int64_t(7));
        QCOMPARE(g.prompt_id, r.prompt_id);
        QCOMPARE(g.prompt, r.prompt);
        QCOMPARE(g.completion, r.completion);
        QCOMPARE(g.reasoning, r.reasoning);
        QCOMPARE(g.answer, r.answer);
        QCOMPARE(g.reference, r.reference);
        QCOMPARE(g.finish_reason, r.finish_reason);
        QCOMPARE(g.total_reward, r.total_reward);
        QCOMPARE(g.advantage, r.advantage);
        QCOMPARE(g.prompt_tokens, r.prompt_tokens);
        QCOMPARE(g.completion_tokens, r.completion_tokens);
        QCOMPARE(g.format_valid, r.format_valid);
        QVERIFY(!g.correct.has_value());
        QCOMPARE(g.token_ids, r.token_ids);
        QCOMPARE(g.logprobs, r.logprobs);  // every value above is exact in float16
        QCOMPARE(g.components.size(), size_t(2));
        QCOMPARE(g.components[1].name, std::string("nover"));
        QCOMPARE(g.components[1].details["P_r"].get<double>(), 3.25);
        QCOMPARE(g.components[1].details["valid"].get<bool>(), true);
        QCOMPARE(d->token_texts[2], std::string(" is"));
        QCOMPARE(d->group.size(), size_t(2));
        QCOMPARE(d->group[1].sample, 3);
        QCOMPARE(d->group[1].components.size(), size_t(2));

        const auto d2 = ws.rollout(page.rows[1].id);
        QCOMPARE(d2->record.completion, other.completion);
        QCOMPARE(d2->record.reasoning, other.reasoning);
        QCOMPARE(d2->record.correct, other.correct);

        // The completion of the first rollout was stored as tokens only (NULL text), the second
        // as text; prompts once for both (same prompt id, text and reference).
        SqliteDb raw(dbPath(dir), true, false);
        QCOMPARE(raw.queryInt("SELECT count(*) FROM rollout_payload WHERE completion IS NULL"),
                 int64_t(1));
        QCOMPARE(raw.queryInt("SELECT count(*) FROM prompts"), int64_t(1));

        const auto points = ws.metricsSince({run}, 0);
        QCOMPARE(points.size(), size_t(2));
        QVERIFY(std::isnan(points[1].value));
        QCOMPARE(points[0].name, std::string("reward/total"));
        QCOMPARE(ws.metricNames({run}), (std::vector<std::string>{"nan/metric", "reward/total"}));
        QCOMPARE(ws.componentNames({run}), (std::vector<std::string>{"format", "nover"}));
    }

    void badStepStoresNothing() {
        QTemporaryDir dir;
        auto ws = Workspace::open(dbPath(dir));
        const std::string run = ws.createRun({});
        StepRecord s = makeStep(0, 1, 2);
        s.rollouts[1].logprobs.pop_back();
        try {
            ws.writeStep(run, s);
            QFAIL("expected StoreError");
        } catch (const StoreError& e) {
            QVERIFY(std::string(e.what()).find("rollout 1") != std::string::npos);
            QVERIFY(std::string(e.what()).find("logprobs") != std::string::npos);
        }
        s = makeStep(0, 1, 2);
        s.rollouts[0].total_reward = std::nan("");
        QVERIFY_THROWS_EXCEPTION(StoreError, ws.writeStep(run, s));
        QCOMPARE(ws.rolloutTotal(), int64_t(0));
        QVERIFY(ws.metricsSince({run}, 0).empty());
        QCOMPARE(ws.run(run)->step, int64_t(-1));
        ws.writeStep(run, makeStep(0, 1, 2));
        QCOMPARE(ws.rolloutTotal(), int64_t(2));
    }

    void metricsSinceTailsByRowid() {
        QTemporaryDir dir;
        auto ws = Workspace::open(dbPath(dir));
        const std::string a = ws.createRun({}), b = ws.createRun({});
        ws.writeStep(a, makeStep(0, 0, 0));
        ws.writeStep(b, makeStep(0, 0, 0));
        auto pa = ws.metricsSince({a}, 0);
        QCOMPARE(pa.size(), size_t(2));
        const int64_t last = pa.back().rowid;
        ws.writeStep(a, makeStep(1, 0, 0));
        auto more = ws.metricsSince({a}, last);
        QCOMPARE(more.size(), size_t(2));
        QCOMPARE(more[0].step, int64_t(1));
        QVERIFY(more[0].rowid > last);
        QCOMPARE(ws.metricsSince({a, b}, 0).size(), size_t(6));
        QCOMPARE(ws.metricsSince({a, b}, 0, 3).size(), size_t(3));
        QCOMPARE(ws.metricsSince({"gone"}, 0).size(), size_t(0));
    }

    void seriesDecimationKeepsExtremes() {
        QTemporaryDir dir;
        auto ws = Workspace::open(dbPath(dir));
        const std::string run = ws.createRun({});
        // 10,000 steps of a slow sine with a one-step spike at 4321 and a dip at 8765.
        for (int64_t base = 0; base < 10000; base += 1000) {
            for (int64_t s = base; s < base + 1000; ++s) {
                StepRecord st;
                st.step = s;
                double v = std::sin(0.001 * static_cast<double>(s));
                if (s == 4321) v = 50.0;
                if (s == 8765) v = -50.0;
                st.metrics = {{"m", v}};
                ws.writeStep(run, st);
            }
        }
        const auto pts = ws.metricSeries(run, "m", 100);
        QVERIFY(pts.size() <= 400);
        QVERIFY(pts.size() >= 100);
        QCOMPARE(pts.front().step, int64_t(0));
        QCOMPARE(pts.back().step, int64_t(9999));
        bool spike = false, dip = false;
        for (size_t i = 0; i < pts.size(); ++i) {
            if (pts[i].step == 4321) spike = pts[i].value == 50.0;
            if (pts[i].step == 8765) dip = pts[i].value == -50.0;
            if (i) QVERIFY(pts[i].step > pts[i - 1].step);
        }
        QVERIFY(spike);
        QVERIFY(dip);
        // A short series comes back whole, and a step window narrows it.
        QCOMPARE(ws.metricSeries(run, "m", 1000, 100, 199).size(), size_t(100));
    }
};

REFLAB_TEST_APPLESS(TestStore);
#include "test_store.moc"
