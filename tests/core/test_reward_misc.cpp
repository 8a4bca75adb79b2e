// format and exact_match components, and reverse reasoning's prompt and trace filter.
#include <QtTest>

#include "core/reward/reverse_reasoning.h"
#include "core/reward/reward_exact_match.h"
#include "core/reward/reward_format.h"

using namespace reflab::reward;

class TestRewardMisc : public QObject {
    Q_OBJECT
    const reflab::text::TagPair think{"<think>", "</think>"};
    const reflab::text::TagPair answer{"<answer>", "</answer>"};

private slots:
    void formatComponentBothChecks() {
        const std::string ok = "<think>r</think>\n<answer>a</answer>";
        QCOMPARE(formatComponent(ok, think, answer, FormatCheck::Template).value, 1.0);
        QCOMPARE(formatComponent(ok, think, answer, FormatCheck::Nover).value, 1.0);
        const std::string empty = "<think>r</think><answer> </answer>";
        QCOMPARE(formatComponent(empty, think, answer, FormatCheck::Template).value, 0.0);
        QCOMPARE(formatComponent(empty, think, answer, FormatCheck::Nover).value, 1.0);
        QCOMPARE(formatComponent("no tags", think, answer, FormatCheck::Template).value, 0.0);
        QCOMPARE(
            formatComponent(ok, think, answer, FormatCheck::Template).details["valid"].get<bool>(),
            true);
    }
    void exactMatch_data() {
        QTest::addColumn<QString>("answer");
        QTest::addColumn<QString>("reference");
        QTest::addColumn<bool>("match");
        QTest::newRow("case and spaces") << "  The   Answer. "
                                         << "the answer" << true;
        QTest::newRow("thousands") << "1,000"
                                   << "1000" << true;
        QTest::newRow("decimal") << "42.0"
                                 << "42" << true;
        QTest::newRow("fullwidth") << "ＡＢＣ"
                                   << "abc" << true;
        QTest::newRow("different") << "41"
                                   << "42" << false;
        QTest::newRow("substring") << "the answer is 42"
                                   << "42" << false;
        QTest::newRow("empty reference") << ""
                                         << "" << false;
    }
    void exactMatch() {
        QFETCH(QString, answer);
        QFETCH(QString, reference);
        QFETCH(bool, match);
        const auto v = exactMatchComponent(answer.toStdString(), reference.toStdString());
        QCOMPARE(v.value, match ? 1.0 : 0.0);
    }
    void reversePromptFilling() {
        const std::string p = reversePrompt(kDefaultReversePrompt, "What is 6·7?", "42");
        QVERIFY(p.rfind(kDefaultReversePrompt, 0) == 0);
        QVERIFY(p.find("Question:\nWhat is 6·7?") != std::string::npos);
        QVERIFY(p.find("Reference answer:\n42") != std::string::npos);
        QCOMPARE(reversePrompt("Q={question} R={reference}", "q", "r"), std::string("Q=q R=r"));
    }
    void traceFilter_data() {
        QTest::addColumn<QString>("trace");
        QTest::addColumn<bool>("keep");
        QTest::addColumn<QString>("reason");
        QTest::newRow("good") << "I multiply 6 by 7.\nSix sevens make 42." << true << "";
        QTest::newRow("leak") << "The reference answer says 42, so 42." << false
                              << "mentions the reference";
        QTest::newRow("leak case")
            << "Looking at the Given Answer: 42" << false << "mentions the reference";
        QTest::newRow("does not end there")
            << "It is 42.\nBut maybe 41." << false << "does not end at the reference";
        QTest::newRow("empty") << "  " << false << "empty trace";
    }
    void traceFilter() {
        QFETCH(QString, trace);
        QFETCH(bool, keep);
        QFETCH(QString, reason);
        ReverseReasoningSection s;
        s.leak_phrases = {"reference answer", "given answer"};
        const auto v = checkReverseTrace(trace.toStdString(), "42", s.leak_phrases);
        QCOMPARE(v.keep, keep);
        QVERIFY(QString::fromStdString(v.reason).startsWith(reason));
    }
};

QTEST_APPLESS_MAIN(TestRewardMisc)
#include "test_reward_misc.moc"
