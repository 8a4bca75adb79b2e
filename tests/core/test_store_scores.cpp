// Workspace::rolloutScores, the diagnostics' bulk read, on each of its paths: two runs written
// step by step side by side (their ids interleaved), one with few rollouts per step (its ids
// sparse in their range: the components and answers are joined through the step index) and one
// with many (dense: read over the id range, the other run's rows skipped), each long enough to
// be read by two threads over two step ranges, and read again from a later step (one
// connection). Every column is checked against the records this test wrote. Also
// tokenBlobSpan, the answer's bytes read straight from a tokens blob, against spans written out
// by hand, and tokenBlobText, a re-score's completion, likewise.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>

#include "core/store/store_codec.h"
#include "core/store/workspace.h"
#include "tests/core/test_store_helpers.h"
#include "tests/test_registry.h"

using namespace reflab::store;

namespace {

// Tokens: "<answer>", "</answer>", the ten digits, then fillers up to 20000 tokens (so ids
// need one, two and three varint bytes).
std::vector<std::string> scoresVocabulary() {
    std::vector<std::string> v = {"<answer>", "</answer>"};
    for (char d = '0'; d <= '9'; ++d) v.push_back(std::string(1, d));
    while (v.size() < 20000) v.push_back("w" + std::to_string(v.size()) + " ");
    return v;
}

// Rollout k of step s of a run: how its answer is stored (as tokens, as text), whether its
// correctness is stored and whether its prompt has a reference vary with (s, k).
RolloutRecord scoresRollout(int64_t s, int k, const std::string& tag) {
    RolloutRecord r;
    r.step = s;
    r.group = k / 2;
    r.sample = k % 2;
    r.prompt_id = tag + std::to_string(k % 5);
    r.prompt = "question " + r.prompt_id;
    r.reference = k % 5 == 4 ? "" : std::to_string(k % 5);
    r.answer = std::to_string((k + s) % 7);
    const std::string filler = "w" + std::to_string(12 + (k * 131 + s) % 19000) + " ";
    r.completion = filler + "<answer>" + r.answer + "</answer>";
    // Tokens that decode to the completion (stored as tokens) except every third rollout,
    // whose tokens decode to something else (its completion is stored as text).
    r.token_ids = {12 + (k * 131 + int(s)) % 19000, 0, 2 + (k + int(s)) % 7, 1};
    if (k % 3 == 2) r.token_ids[0] = 12;
    r.finish_reason = "eos";
    r.total_reward = 0.5 * k - 0.25 * static_cast<double>(s);
    r.completion_tokens = 4 + k;
    r.format_valid = k % 4 != 1;
    if (s % 3 == 1) r.correct = k % 2 == 0;
    r.components.push_back({"nover", 0.1 * k + static_cast<double>(s), nullptr});
    if (k % 2 == 1) r.components.push_back({"format", r.format_valid ? 1.0 : 0.0, nullptr});
    return r;
}

// Checks `got` against the records of steps > after (in writing order, which is id order).
void checkScores(const RolloutScores& got, const std::vector<RolloutRecord>& written,
                 int64_t after) {
    std::vector<const RolloutRecord*> want;
    for (const auto& r : written)
        if (r.step > after) want.push_back(&r);
    QCOMPARE(got.size(), want.size());
    QCOMPARE(got.answers.size(), want.size());
    QCOMPARE(got.references.size(), want.size());
    // Components in the order first met: "nover" (every rollout), then "format" (odd k).
    QCOMPARE(got.components, (std::vector<std::string>{"nover", "format"}));
    for (size_t i = 0; i < want.size(); ++i) {
        const RolloutRecord& r = *want[i];
        if (i > 0) QVERIFY(got.ids[i] > got.ids[i - 1]);
        QCOMPARE(got.steps[i], r.step);
        QCOMPARE(got.groups[i], r.group);
        QCOMPARE(got.is_eval[i], uint8_t{0});
        QCOMPARE(got.total_reward[i], r.total_reward);
        QCOMPARE(got.completion_tokens[i], r.completion_tokens);
        QCOMPARE(got.format_valid[i], uint8_t(r.format_valid ? 1 : 0));
        QCOMPARE(got.correct[i], int8_t(r.correct ? (*r.correct ? 1 : 0) : -1));
        QCOMPARE(got.values[i * 2], r.components[0].value);
        if (r.components.size() > 1)
            QCOMPARE(got.values[i * 2 + 1], r.components[1].value);
        else
            QVERIFY(std::isnan(got.values[i * 2 + 1]));
        // Answers and references only where the correctness was not stored; an answer only
        // where there is a reference to judge it by.
        const bool judged = !r.correct.has_value();
        QCOMPARE(got.references[i], judged ? r.reference : std::string());
        QCOMPARE(got.answers[i], judged && !r.reference.empty() ? r.answer : std::string());
    }
}

}  // namespace

class TestStoreScores : public QObject {
    Q_OBJECT
private slots:
    void tokenBlobSpanReadsTheSpan() {
        // Tokens 0 "ab", 1 "c", 300 "de", 17000 "f": one-, two- and three-byte ids; the
        // concatenation "abcdef".
        std::vector<std::string> vocab(17001, "z");
        vocab[0] = "ab";
        vocab[1] = "c";
        vocab[300] = "de";
        vocab[17000] = "f";
        std::vector<uint32_t> lengths;
        for (const auto& t : vocab) lengths.push_back(static_cast<uint32_t>(t.size()));
        const std::string blob = encodeTokens({0, 1, 300, 17000}, {-1.0f, -2.0f, -3.0f, -4.0f});
        std::string out;
        size_t size = 0;
        QVERIFY(tokenBlobSpan(blob, vocab, lengths, 1, 3, out, size, "t"));
        QCOMPARE(out, std::string("bcd"));
        QCOMPARE(size, size_t{6});
        QVERIFY(tokenBlobSpan(blob, vocab, lengths, 4, 100, out, size, "t"));
        QCOMPARE(out, std::string("ef"));
        QVERIFY(tokenBlobSpan(blob, vocab, lengths, 9, 1, out, size, "t"));
        QCOMPARE(out, std::string());
        QCOMPARE(size, size_t{6});  // the caller sees the span lies outside
        // Ids only (format 2), an empty blob, an id outside the vocabulary, a cut blob.
        QVERIFY(tokenBlobSpan(encodeTokens({300, 0}, {}), vocab, lengths, 0, 3, out, size, "t"));
        QCOMPARE(out, std::string("dea"));
        QVERIFY(tokenBlobSpan("", vocab, lengths, 0, 3, out, size, "t"));
        QCOMPARE(size, size_t{0});
        QVERIFY(!tokenBlobSpan(encodeTokens({0, 17001}, {}), vocab, lengths, 0, 1, out, size, "t"));
        QVERIFY_THROWS_EXCEPTION(
            StoreError, tokenBlobSpan(blob.substr(0, 5), vocab, lengths, 0, 1, out, size, "t"));
    }

    void tokenBlobTextReadsTheWholeText() {
        std::vector<std::string> vocab(17001, "z");
        vocab[0] = "ab";
        vocab[1] = "";
        vocab[300] = "de";
        vocab[17000] = "f";
        std::vector<uint32_t> lengths;
        for (const auto& t : vocab) lengths.push_back(static_cast<uint32_t>(t.size()));
        std::vector<int32_t> ids;
        std::string out = "old text, longer than the new";
        QVERIFY(tokenBlobText(encodeTokens({17000, 0, 1, 300, 5}, {0, 0, 0, 0, 0}), vocab, lengths,
                              ids, out, "t"));
        QCOMPARE(out, std::string("fabdez"));
        QVERIFY(tokenBlobText("", vocab, lengths, ids, out, "t"));
        QCOMPARE(out, std::string());
        QVERIFY(!tokenBlobText(encodeTokens({0, 17001}, {}), vocab, lengths, ids, out, "t"));
        const std::string blob = encodeTokens({300, 17000}, {});
        QVERIFY_THROWS_EXCEPTION(StoreError, tokenBlobText(blob.substr(0, blob.size() - 1), vocab,
                                                           lengths, ids, out, "t"));
    }

    void scoresOfRunsWrittenSideBySide() {
        QTemporaryDir dir;
        const std::string path = store_test::dbPath(dir);
        std::string sparse, dense;
        std::vector<RolloutRecord> sparse_written, dense_written;
        {
            auto ws = Workspace::open(path);
            NewRun nr;
            nr.vocabulary = scoresVocabulary();
            nr.name = "sparse";
            sparse = ws.createRun(nr);
            nr.name = "dense";
            dense = ws.createRun(nr);
            // 70 steps: over the two-thread threshold. The sparse run's 3 rollouts per step
            // span 203 ids each (35 x 203 per thread: sparse); the dense run's 200 fill most
            // of theirs. Read from step 60 on, the sparse run's span is small enough to scan.
            for (int64_t s = 0; s < 70; ++s) {
                StepRecord a, b;
                a.step = b.step = s;
                for (int k = 0; k < 3; ++k) a.rollouts.push_back(scoresRollout(s, k, "a"));
                for (int k = 0; k < 200; ++k) b.rollouts.push_back(scoresRollout(s, k, "b"));
                ws.writeStep(sparse, a);
                ws.writeStep(dense, b);
                sparse_written.insert(sparse_written.end(), a.rollouts.begin(), a.rollouts.end());
                dense_written.insert(dense_written.end(), b.rollouts.begin(), b.rollouts.end());
            }
        }
        auto ws = Workspace::open(path, /*read_only=*/true);
        checkScores(ws.rolloutScores(sparse, -1, true), sparse_written, -1);
        checkScores(ws.rolloutScores(dense, -1, true), dense_written, -1);
        checkScores(ws.rolloutScores(sparse, 60, true), sparse_written, 60);
        checkScores(ws.rolloutScores(dense, 60, true), dense_written, 60);
        // Without answers: none read.
        const RolloutScores bare = ws.rolloutScores(dense, 10);
        QCOMPARE(bare.size(), size_t{59 * 200});
        QVERIFY(bare.answers.empty());
        QCOMPARE(ws.rolloutScores(dense, 69, true).size(), size_t{0});
    }
};

REFLAB_TEST_APPLESS(TestStoreScores);
#include "test_store_scores.moc"
