// rubric: the judge's expected score over score tokens, the best-of probabilities, the weighted
// combination, and every rule criterion on small texts (value and the sentence that failed).
#include <QtTest>
#include <cmath>

#include "core/reward/reward_rubric.h"
#include "core/reward/rubric_rules.h"
#include "tests/test_registry.h"

using namespace reflab::reward;

namespace {
bool nearRubric(double a, double b, double tol = 1e-12) {
    return std::fabs(a - b) <= tol;
}
QStringList q(const std::vector<std::string>& v) {
    QStringList out;
    for (const auto& s : v) out << QString::fromStdString(s);
    return out;
}
}  // namespace

class TestRewardRubric : public QObject {
    Q_OBJECT
private slots:
    void judgeExpectation() {
        // S = 2, p = 0.2, 0.3, 0.5: E = 0·0.2 + 1·0.3 + 2·0.5 = 1.3, score = 1.3 / 2 = 0.65
        const auto s = judgeExpectedScore({std::log(0.2), std::log(0.3), std::log(0.5)});
        QVERIFY(nearRubric(s.expectation, 1.3));
        QVERIFY(nearRubric(s.score, 0.65));
        QVERIFY(nearRubric(s.mass, 1.0));
        // Only 0.4 of the mass on digits: p = 0.1, 0.1, 0.2 renormalised to 0.25, 0.25, 0.5;
        // E = 0.25 + 2·0.5 = 1.25, score 0.625, mass 0.4.
        const auto t = judgeExpectedScore({std::log(0.1), std::log(0.1), std::log(0.2)});
        QVERIFY(nearRubric(t.expectation, 1.25));
        QVERIFY(nearRubric(t.score, 0.625));
        QVERIFY(nearRubric(t.mass, 0.4));
    }
    void bestOfAndCombine() {
        const auto p = bestOfProbabilities({std::log(0.2), std::log(0.6)});
        QVERIFY(nearRubric(p[0], 0.25) && nearRubric(p[1], 0.75));  // 0.2/0.8, 0.6/0.8
        // (2·1 + 1·0.5 + 1·0) / (2 + 1 + 1) = 2.5 / 4 = 0.625
        QVERIFY(nearRubric(rubricCombine({1.0, 0.5, 0.0}, {2, 1, 1}), 0.625));
        QVERIFY(nearRubric(rubricCombine({1.0}, {0}), 0.0));
    }
    void sentences() {
        QCOMPARE(q(splitSentences("A b. C d!\nE f? g")),
                 QStringList({"A b.", "C d!", "E f?", "g"}));
        QCOMPARE(q(splitSentences("  \n ")), QStringList());
        QCOMPARE(q(splitSentences("Pi is 3.14 today.")), QStringList({"Pi is 3.14 today."}));
    }
    void sections() {
        const auto r = ruleSections("# Title\nIntroduction: hello there\n**Body**\nsome text\n",
                                    {"title", "introduction", "body", "conclusion"});
        QVERIFY(nearRubric(r.value, 0.75));  // 3 of 4 present
        QCOMPARE(q(r.failing), QStringList({"conclusion"}));
        // The word inside a sentence is not a section heading.
        QVERIFY(nearRubric(ruleSections("In conclusion we stop.", {"conclusion"}).value, 0.0));
    }
    void descriptiveRatio() {
        // 2 descriptive : 1 directive ("Always …") -> ratio 2 ≥ 2 -> 1
        auto r = ruleDescriptiveRatio(
            "The model reads the text. It writes a summary. Always cite the source.", 2.0);
        QVERIFY(nearRubric(r.value, 1.0));
        QVERIFY(r.failing.empty());
        // 1 descriptive : 2 directive -> ratio 0.5, value 0.5 / 2 = 0.25; the directives fail
        r = ruleDescriptiveRatio("The model reads. Use short words. It must be brief.", 2.0);
        QVERIFY(nearRubric(r.value, 0.25));
        QCOMPARE(q(r.failing), QStringList({"Use short words.", "It must be brief."}));
        QVERIFY(
            nearRubric(ruleDescriptiveRatio("Only facts here.", 2.0).value, 1.0));  // no directive
    }
    void secondPerson() {
        // 2 of 4 sentences in the second person -> 1 − 2/4 = 0.5
        const auto r =
            ruleNoSecondPerson("The assistant helps. You should rest. Your text is long. It ends.");
        QVERIFY(nearRubric(r.value, 0.5));
        QCOMPARE(q(r.failing), QStringList({"You should rest.", "Your text is long."}));
        QVERIFY(nearRubric(ruleNoSecondPerson("Youth is short.").value, 1.0));  // whole words only
    }
    void positiveWording() {
        // 2 of 3 prohibitive -> 1 − 2/3 = 1/3
        const auto r = rulePositiveWording("Write clearly. Never use jargon. Do not ramble.");
        QVERIFY(nearRubric(r.value, 1.0 / 3));
        QCOMPARE(q(r.failing), QStringList({"Never use jargon.", "Do not ramble."}));
    }
    void wordLists() {
        auto r = ruleWordsInclude("Alpha and beta. An alphabet.", {"alpha", "beta", "gamma"});
        // "Alpha" counts (case-insensitive); "alphabet" is not "alpha"; gamma is missing: 2/3
        QVERIFY(nearRubric(r.value, 2.0 / 3));
        QCOMPARE(q(r.failing), QStringList({"gamma"}));
        r = ruleWordsExclude("It is very good. It works. Really.", {"very", "really", "so"});
        QVERIFY(nearRubric(r.value, 1.0 - 2.0 / 3));  // 2 of 3 forbidden words used
        QCOMPARE(q(r.failing), QStringList({"It is very good.", "Really."}));
    }
    void emptyTextScoresZero() {
        RubricCriterion c;
        c.kind = CriterionKind::Check;
        for (const char* rule :
             {"sections", "descriptive_ratio", "no_second_person", "positive_wording"}) {
            c.rule = rule;
            c.sections = {"title"};
            const auto r = evaluateRule(c, "   ");
            QVERIFY(nearRubric(r.value, 0.0));
            QCOMPARE(r.reason, std::string("empty text"));
        }
    }
    void prompts() {
        RubricOptions o;
        RubricCriterion c;
        c.name = "clarity";
        c.description = "is clear";
        o.criteria = {c};
        const std::string p = judgePrompt(o, c, "Explain X.", "X is Y.");
        QVERIFY(p.find("Criterion: clarity: is clear") != std::string::npos);
        QVERIFY(p.find("Explain X.") != std::string::npos);
        QVERIFY(p.find("X is Y.") != std::string::npos);
        QVERIFY(p.find("to 5 (fully)") != std::string::npos);
        const std::string cp = contrastivePrompt(o, "T", {"a", "b"});
        QVERIFY(cp.find("Candidate 1:\na") != std::string::npos);
        QVERIFY(cp.find("Candidate 2:\nb") != std::string::npos);
        QCOMPARE(fillPlaceholders("{a}-{b}-{c}", {{"a", "1"}, {"b", "2"}}), std::string("1-2-{c}"));
    }
};

REFLAB_TEST_APPLESS(TestRewardRubric);
#include "test_reward_rubric.moc"
