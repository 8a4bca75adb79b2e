// The store record of a training rollout: its fields as the inspector reads them, and the
// correctness label a train rollout carries when its prompt has a reference.
#include <QtTest>

#include "core/train/step_metrics.h"
#include "tests/test_registry.h"

using namespace reflab;

namespace {
train::Rollout rolloutAnswering(const std::string& answer) {
    train::Rollout r;
    r.group = 2;
    r.sample = 5;
    r.completion = "<think>two and two</think><answer>" + answer + "</answer>";
    r.parsed.reasoning = "two and two";
    r.parsed.answer = answer;
    r.parsed.has_answer = true;
    r.generation.tokens = {11, 12, 13};
    r.advantage = 0.25;
    return r;
}
train::PromptItem promptWithReference(const std::string& reference) {
    train::PromptItem p;
    p.id = "train-7";
    p.text = "What is 2+2?";
    p.reference = reference;
    p.ids = {1, 2, 3, 4};
    return p;
}
}  // namespace

class TestRolloutRecord : public QObject {
    Q_OBJECT
private slots:
    void fields() {
        const auto rec = train::rolloutRecord(rolloutAnswering("4"), promptWithReference("4"), 9);
        QCOMPARE(rec.step, int64_t(9));
        QCOMPARE(rec.prompt_id, std::string("train-7"));
        QCOMPARE(rec.group, 2);
        QCOMPARE(rec.sample, 5);
        QCOMPARE(rec.answer, std::string("4"));
        QCOMPARE(rec.reference, std::string("4"));
        QCOMPARE(rec.prompt_tokens, 4);
        QCOMPARE(rec.completion_tokens, 3);
        QCOMPARE(rec.advantage, 0.25);
        QVERIFY(!rec.is_eval);
    }

    // Labelled by the answer block against the reference (exact_match's normalisation:
    // whitespace, a thousands separator in groups of three); unknown without a reference.
    void correctness_data() {
        QTest::addColumn<QString>("answer");
        QTest::addColumn<QString>("reference");
        QTest::addColumn<int>("expected");  // 1 correct, 0 incorrect, -1 unknown
        QTest::newRow("equal") << "4"
                               << "4" << 1;
        QTest::newRow("spaces") << " 4 "
                                << "4" << 1;
        QTest::newRow("thousands") << "1,234"
                                   << "1234" << 1;
        QTest::newRow("not a separator") << "1,2"
                                         << "12" << 0;
        QTest::newRow("wrong") << "5"
                               << "4" << 0;
        QTest::newRow("no answer") << ""
                                   << "4" << 0;
        QTest::newRow("no reference") << "4"
                                      << "" << -1;
    }
    void correctness() {
        QFETCH(QString, answer);
        QFETCH(QString, reference);
        QFETCH(int, expected);
        auto r = rolloutAnswering(answer.toStdString());
        r.parsed.has_answer = !answer.isEmpty();
        const auto rec = train::rolloutRecord(r, promptWithReference(reference.toStdString()), 1);
        QCOMPARE(rec.correct.has_value() ? int(*rec.correct) : -1, expected);
    }
};

REFLAB_TEST_APPLESS(TestRolloutRecord);
#include "test_rollout_record.moc"
