// format and exact_match components, and reverse reasoning's prompt and trace filter.
#include <QtTest>

#include "core/reward/reverse_reasoning.h"
#include "core/reward/reward_exact_match.h"
#include "core/reward/reward_format.h"
#include "tests/test_registry.h"

using namespace reflab::reward;

class TestRewardMisc : public QObject {
    Q_OBJECT
    const reflab::text::TagPair think{"<think>", "</think>"};
    const reflab::text::TagPair answer{"<answer>", "</answer>"};

private slots:
    void formatComponentRlprPattern() {
        // RLPR's pattern: starts with <think>, each tag once, any text between and after.
        const auto rlpr = [&](const std::string& c) {
            return formatComponent(c, think, answer, FormatCheck::Rlpr).value;
        };
        QCOMPARE(rlpr("<think>r</think> so: <answer>a</answer> done"), 1.0);
        QCOMPARE(rlpr("<think>r</think><answer> </answer>"), 1.0);   // an empty answer passes
        QCOMPARE(rlpr(" <think>r</think><answer>a</answer>"), 0.0);  // must start with the tag
        QCOMPARE(rlpr("<think>r</think><answer>a"), 0.0);            // no close tag
        QCOMPARE(rlpr("<think>r</think><answer>a</answer><answer>b</answer>"), 0.0);
        QCOMPARE(rlpr("<think>r<answer>a</answer></think>"), 0.0);  // out of order
        QCOMPARE(formatComponent("x", think, answer, FormatCheck::Rlpr).details["check"],
                 nlohmann::json("rlpr"));
    }
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
        QTest::newRow("ASCII capitals") << "XYZ Q"
                                        << "xyz  q" << true;
        // Not ASCII: the full NFKC case folding (ß folds to ss, the Kelvin sign to k).
        QTest::newRow("eszett") << "STRASSE"
                                << "Straße" << true;
        QTest::newRow("kelvin sign") << "\u212A"
                                     << "k" << true;
        QTest::newRow("different") << "41"
                                   << "42" << false;
        QTest::newRow("substring") << "the answer is 42"
                                   << "42" << false;
        QTest::newRow("empty reference") << ""
                                         << "" << false;
        // A comma is a thousands separator only before groups of three digits.
        QTest::newRow("1,2 is not 12") << "1,2"
                                       << "12" << false;
        QTest::newRow("12,34 is not 1234") << "12,34"
                                           << "1234" << false;
        QTest::newRow("millions") << "-1,234,567.5"
                                  << "-1234567.5" << true;
        QTest::newRow("comma in decimals") << "1.234,5"
                                           << "1.2345" << false;
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
        // The reference must be a whole number in the last line, not part of a longer one.
        QTest::newRow("142 is not 42")
            << "So the total is 142." << false << "does not end at the reference";
        QTest::newRow("4.42 is not 42")
            << "It comes to 4.42" << false << "does not end at the reference";
        QTest::newRow("42,000 is not 42")
            << "About 42,000 of them." << false << "does not end at the reference";
        QTest::newRow("x42 is not 42") << "Call it x42" << false << "does not end at the reference";
        QTest::newRow("(42) is 42") << "The answer is (42)." << true << "";
        QTest::newRow("42. at the end") << "Hence 42." << true << "";
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

REFLAB_TEST_APPLESS(TestRewardMisc);
#include "test_reward_misc.moc"
