// core/data/demo_task: the demo task generator. Answers are re-derived here from the question's
// words (an independent reading), never taken from the generator's own steps.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <regex>
#include <set>

#include "core/data/data_error.h"
#include "core/data/demo_task.h"
#include "core/data/jsonl_dataset.h"
#include "tests/test_registry.h"

using reflab::data::DemoProblem;
using reflab::data::DemoTaskOptions;

namespace {

// "What is 7 plus 12?" or "Start with 7, add 12, then subtract 5. What is the result?"
long answerFromWords(const std::string& q) {
    static const std::regex first(R"((?:What is|Start with) (\d+))");
    static const std::regex op(R"((plus|minus|add|subtract) (\d+))");
    std::smatch m;
    if (!std::regex_search(q, m, first)) throw std::runtime_error("no first number: " + q);
    long value = std::stol(m[1]);
    for (auto it = std::sregex_iterator(q.begin(), q.end(), op); it != std::sregex_iterator();
         ++it) {
        const std::string word = (*it)[1];
        const long n = std::stol((*it)[2]);
        value += (word == "plus" || word == "add") ? n : -n;
    }
    return value;
}

int operationsInWords(const std::string& q) {
    static const std::regex op(R"((plus|minus|add|subtract) \d+)");
    return static_cast<int>(
        std::distance(std::sregex_iterator(q.begin(), q.end(), op), std::sregex_iterator()));
}

}  // namespace

class TestDemoTask : public QObject {
    Q_OBJECT
private slots:
    void sameSeedSameProblems() {
        DemoTaskOptions o;
        o.train = 300;
        o.eval = 50;
        const auto a = reflab::data::makeDemoTask(o), b = reflab::data::makeDemoTask(o);
        QCOMPARE(a.train.size(), size_t(300));
        QCOMPARE(a.eval.size(), size_t(50));
        for (size_t i = 0; i < a.train.size(); ++i)
            QCOMPARE(a.train[i].question, b.train[i].question);
        o.seed = 2;
        const auto c = reflab::data::makeDemoTask(o);
        int differ = 0;
        for (size_t i = 0; i < a.eval.size(); ++i)
            differ += a.eval[i].question != c.eval[i].question;
        QVERIFY2(differ > 40, "another seed draws other problems");
    }
    void answersFollowFromTheWords() {
        DemoTaskOptions o;
        o.train = 2000;
        o.eval = 200;
        const auto t = reflab::data::makeDemoTask(o);
        std::set<int> levels;
        for (const auto* split : {&t.train, &t.eval})
            for (const DemoProblem& p : *split) {
                QCOMPARE(std::to_string(answerFromWords(p.question)), p.answer);
                QCOMPARE(operationsInWords(p.question), p.level);
                QCOMPARE(int(p.steps.size()), p.level);
                QVERIFY(std::stol(p.answer) >= 0);
                levels.insert(p.level);
            }
        QCOMPARE(levels, (std::set<int>{1, 2, 3}));
    }
    void heldOutIsDistinctAndNeverTrained() {
        DemoTaskOptions o;
        o.train = 3000;
        o.eval = 300;
        const auto t = reflab::data::makeDemoTask(o);
        std::set<std::string> eval;
        for (const auto& p : t.eval) QVERIFY2(eval.insert(p.question).second, p.question.c_str());
        for (const auto& p : t.train) QVERIFY2(!eval.count(p.question), p.question.c_str());
    }
    void levelsAreHonoured() {
        DemoTaskOptions o;
        o.train = 100;
        o.eval = 20;
        o.min_level = o.max_level = 2;
        for (const auto& p : reflab::data::makeDemoTask(o).train) QCOMPARE(p.level, 2);
    }
    void workedSolutionInTheDemoTags() {
        DemoProblem p;
        p.question = "Start with 7, add 12, then subtract 5. What is the result?";
        p.steps = {"7 + 12 = 19", "19 - 5 = 14"};
        p.answer = "14";
        QCOMPARE(reflab::data::demoWorkedSolution(p),
                 std::string("<think>\n7 + 12 = 19\n19 - 5 = 14\n</think>\n\n<answer>\n14\n"
                             "</answer>"));
    }
    void writesLoadableFiles() {
        QTemporaryDir dir;
        DemoTaskOptions o;
        o.train = 40;
        o.eval = 10;
        const auto t = reflab::data::makeDemoTask(o);
        const std::string out = dir.path().toStdString() + "/demo";
        reflab::data::writeDemoTask(t, out);
        const auto train = reflab::data::JsonlDataset::load(out + "/train.jsonl");
        const auto eval = reflab::data::JsonlDataset::load(out + "/eval.jsonl");
        QCOMPARE(train.size(), size_t(40));
        QCOMPARE(eval.size(), size_t(10));
        QCOMPARE(eval.at(3).reference, t.eval[3].answer);
        const auto sft = reflab::data::JsonlDataset::load(out + "/sft.jsonl", {"prompt", "target"});
        QCOMPARE(sft.at(0).prompt, t.train[0].question);
        QCOMPARE(sft.at(0).reference, reflab::data::demoWorkedSolution(t.train[0]));
    }
    void unworkedMixture() {
        // The splits do not depend on the fraction; about that share of sft_mixed.jsonl's
        // targets states the result alone, the rest are the worked solutions.
        QTemporaryDir dir;
        DemoTaskOptions o;
        o.train = 2000;
        o.eval = 10;
        const auto plain = reflab::data::makeDemoTask(o);
        o.unworked_fraction = 0.5;
        const auto t = reflab::data::makeDemoTask(o);
        QCOMPARE(t.train.size(), plain.train.size());
        for (size_t i = 0; i < t.train.size(); ++i)
            QCOMPARE(t.train[i].question, plain.train[i].question);
        QVERIFY(plain.unworked.empty());
        const std::string out = dir.path().toStdString() + "/demo";
        reflab::data::writeDemoTask(t, out);
        const auto mixed =
            reflab::data::JsonlDataset::load(out + "/sft_mixed.jsonl", {"prompt", "target"});
        QCOMPARE(mixed.size(), t.train.size());
        int unworked = 0;
        for (size_t i = 0; i < mixed.size(); ++i) {
            const std::string& target = mixed.at(i).reference;
            const std::string& answer = t.train[i].answer;
            if (target == "<think>\nThe result is " + answer + ".\n</think>\n\n<answer>\n" +
                              answer + "\n</answer>")
                ++unworked;
            else
                QCOMPARE(target, reflab::data::demoWorkedSolution(t.train[i]));
        }
        QVERIFY2(unworked > 900 && unworked < 1100, qPrintable(QString::number(unworked)));
        o.unworked_fraction = 1.5;
        QVERIFY_THROWS_EXCEPTION(reflab::data::DataError, reflab::data::makeDemoTask(o));
    }
    void badOptionsAreNamed() {
        DemoTaskOptions o;
        o.max_level = 4;
        QVERIFY_THROWS_EXCEPTION(reflab::data::DataError, reflab::data::makeDemoTask(o));
        o.max_level = 3;
        o.min_level = 1;
        o.eval = 100000;  // more distinct one-step problems than exist
        o.max_level = 1;
        try {
            reflab::data::makeDemoTask(o);
            QFAIL("expected a DataError");
        } catch (const reflab::data::DataError& e) {
            QVERIFY(std::string(e.what()).find("distinct held-out") != std::string::npos);
        }
    }
};

REFLAB_TEST_APPLESS(TestDemoTask);
#include "test_demo_task.moc"
