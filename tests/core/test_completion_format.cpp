// Completion parsing by the recipe's tags: strict layout, NOVER's whitespace-free check, the
// answer cut marker, custom tags.
#include <QtTest>

#include "core/text/completion_format.h"
#include "tests/test_registry.h"

using namespace reflab::text;

class TestCompletionFormat : public QObject {
    Q_OBJECT
    const TagPair think{"<think>", "</think>"};
    const TagPair answer{"<answer>", "</answer>"};

private slots:
    void parse_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("reasoning");
        QTest::addColumn<QString>("ans");
        QTest::addColumn<bool>("hasAnswer");
        QTest::newRow("canonical") << "<think> a b </think> <answer> 42 </answer>" << true << "a b"
                                   << "42" << true;
        QTest::newRow("whitespace around")
            << "\n <think>x</think>\n\n<answer>y</answer>\n " << true << "x"
            << "y" << true;
        QTest::newRow("empty answer") << "<think>x</think><answer>  </answer>" << false << "x"
                                      << "" << true;
        QTest::newRow("text before") << "So <think>x</think><answer>y</answer>" << false << "x"
                                     << "y" << true;
        QTest::newRow("text between") << "<think>x</think> so <answer>y</answer>" << false << "x"
                                      << "y" << true;
        QTest::newRow("text after") << "<think>x</think><answer>y</answer> done" << false << "x"
                                    << "y" << true;
        QTest::newRow("two answers")
            << "<think>x</think><answer>y</answer><answer>z</answer>" << false << "x"
            << "y" << true;
        QTest::newRow("wrong order") << "<answer>y</answer><think>x</think>" << false << "x"
                                     << "y" << true;
        QTest::newRow("no answer") << "<think>x</think> the end" << false << "x"
                                   << "" << false;
        QTest::newRow("unclosed answer") << "<think>x</think><answer>y" << false << "x"
                                         << "" << true;
        QTest::newRow("no think") << "<answer>y</answer>" << false << ""
                                  << "y" << true;
        QTest::newRow("answer tag with space") << "<think>x</think><answer >y" << false << "x"
                                               << "" << true;
    }
    void parse() {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        QFETCH(QString, reasoning);
        QFETCH(QString, ans);
        QFETCH(bool, hasAnswer);
        const std::string s = text.toStdString();
        const auto p = parseCompletion(s, think, answer);
        QCOMPARE(p.format_valid, valid);
        QCOMPARE(QString::fromStdString(p.reasoning), reasoning);
        QCOMPARE(QString::fromStdString(p.answer), ans);
        QCOMPARE(p.has_answer, hasAnswer);
        if (hasAnswer) QCOMPARE(p.answer_open, s.find("<answer"));
    }
    void answerOpenIsTheCutPoint() {
        const std::string s = "<think>r</think>\n<answer>y</answer>";
        const auto p = parseCompletion(s, think, answer);
        QCOMPARE(s.substr(0, p.answer_open), std::string("<think>r</think>\n"));
        QCOMPARE(answerCutMarker(answer), std::string("<answer"));
    }
    void noverWhitespaceFreeCheck() {
        // NOVER removes every whitespace character, so text glued around tags still fails, but
        // whitespace inside tags passes.
        QVERIFY(formatValidWhitespaceFree("<think>\n a \n</think>\n\n<answer> b </answer>", think,
                                          answer));
        QVERIFY(
            formatValidWhitespaceFree("< think >a</ think ><answer>b</answer>", think, answer) ==
            false);  // the tags themselves are not found with inner spaces
        QVERIFY(!formatValidWhitespaceFree("x<think>a</think><answer>b</answer>", think, answer));
        QVERIFY(!formatValidWhitespaceFree("<think>a</think><answer>b</answer>x", think, answer));
        QVERIFY(!formatValidWhitespaceFree("<answer>b</answer>", think, answer));
        // Unlike the strict check, NOVER accepts an empty answer.
        QVERIFY(formatValidWhitespaceFree("<think>a</think><answer></answer>", think, answer));
        QVERIFY(!parseCompletion("<think>a</think><answer></answer>", think, answer).format_valid);
    }
    void customTags() {
        const TagPair r{"[R]", "[/R]"}, a{"[A]", "[/A]"};
        const auto p = parseCompletion("[R] because [/R] [A] 7 [/A]", r, a);
        QVERIFY(p.format_valid);
        QCOMPARE(p.answer, std::string("7"));
        QCOMPARE(p.answer_open,
                 size_t(17));  // no trailing ">" to drop: the marker is "[A]", at byte 17
    }
};

REFLAB_TEST_APPLESS(TestCompletionFormat);
#include "test_completion_format.moc"
