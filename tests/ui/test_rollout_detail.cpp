// The Rollouts detail pane: every intermediate each component type stores is shown (NOVER's
// P_r, rank, R_r, R_e, reasoning tokens; RGR's log-prob sum; RLPR's r_B and r_A; a rubric's
// per-criterion scores and a rule's failing sentence), the texts apart, each token coloured by
// its log-prob with a tooltip naming text, id and log-prob; the group table with its badge when
// every reward is equal; Alt+Down's neighbour; "colour by: entropy" colours each token's span by
// its stored entropy (white at 0 nats, more saturated blue as it grows), log-prob where none.
#include <QComboBox>
#include <QLabel>
#include <QMap>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTextBlock>
#include <QTextBrowser>
#include <QTextCursor>
#include <QTextDocument>
#include <QtTest>
#include <cmath>

#include "core/store/workspace.h"
#include "tests/test_registry.h"
#include "ui/rollouts/rollout_detail_html.h"
#include "ui/rollouts/rollout_detail_view.h"

using namespace reflab::ui;
namespace store = reflab::store;

namespace {

std::shared_ptr<store::RolloutDetail> makeDetail(bool flat_group) {
    auto d = std::make_shared<store::RolloutDetail>();
    d->id = 41;  // sample 1 of the group 40..43
    d->run = "r1";
    store::RolloutRecord& r = d->record;
    r.step = 7;
    r.prompt_id = "gsm-12";
    r.group = 3;
    r.sample = 1;
    r.prompt = "How many apples?";
    r.reasoning = "two plus two";
    r.answer = "4";
    r.reference = "four";
    r.completion = "<think>two plus two</think>4";
    r.finish_reason = "eos";
    r.total_reward = 0.75;
    r.advantage = 0.5;
    r.components = {
        {"nover",
         0.6,
         {{"P_r", 2.25}, {"rank", 3}, {"R_r", 0.4}, {"R_e", 0.2}, {"reasoning_tokens", 17}}},
        {"rgr", -1.5, {{"log_prob_sum", -12.5}, {"reference_tokens", 4}}},
        {"rlpr", 0.3, {{"r_B", 0.125}, {"r_A", 0.4375}}},
        {"rubric",
         0.5,
         {{"criteria",
           {{{"value", 1.0}, {"expectation", 0.9}},
            {{"value", 0.0}, {"reason", "failing sentence: the sum is five"}}}},
          {"weighted_mean", 0.5}}},
    };
    r.token_ids = {11, 22, 33};
    r.logprobs = {0.0f, -0.5f, -6.0f};
    d->token_texts = {"two", " plus", " two"};
    for (int i = 0; i < 4; ++i) {
        store::RolloutRow g;
        g.id = 40 + i;
        g.sample = i;
        g.total_reward = flat_group ? 1.0 : 0.25 * i;
        g.completion_tokens = 10 + i;
        d->group.push_back(g);
    }
    return d;
}

// The background of each token's span ("tok:i" anchors), in token order.
QList<QColor> tokenBackgrounds(const RolloutDetailView& view) {
    QMap<int, QColor> at;
    const QTextDocument* doc = view.browser()->document();
    for (QTextBlock block = doc->begin(); block.isValid(); block = block.next())
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextCharFormat f = it.fragment().charFormat();
            if (f.anchorHref().startsWith("tok:"))
                at.insert(f.anchorHref().mid(4).toInt(), f.background().color());
        }
    return at.values();
}

}  // namespace

class TestRolloutDetail : public QObject {
    Q_OBJECT
private slots:
    void everyIntermediateShown() {
        RolloutDetailView view;
        view.resize(800, 900);
        view.setDetail(makeDetail(false), {"a", "b", "c", "d"});
        const QString text = view.browser()->toPlainText();
        for (const char* want : {"P_r",
                                 "2.25",
                                 "rank",
                                 "R_r",
                                 "R_e",
                                 "reasoning_tokens",
                                 "17",
                                 "log_prob_sum",
                                 "-12.5",
                                 "r_B",
                                 "0.125",
                                 "r_A",
                                 "0.4375",
                                 "criteria[0].value",
                                 "criteria[1].reason",
                                 "failing sentence: the sum is five",
                                 "weighted_mean",
                                 "How many apples?",
                                 "two plus two",
                                 "four",
                                 "Reasoning",
                                 "Answer",
                                 "Reference"})
            QVERIFY2(text.contains(want), want);
    }

    void tokensColouredWithToolTips() {
        const auto d = makeDetail(false);
        const QString html = tokensHtml(*d);
        // p = 1 is white; p = e^-6 is a strong colour; each token its own anchor.
        QCOMPARE(logprobColor(0.0f), QString("#ffffff"));
        QVERIFY(logprobColor(-6.0f) != "#ffffff");
        for (int i = 0; i < 3; ++i) QVERIFY(html.contains(QString("tok:%1").arg(i)));
        QVERIFY(html.contains(logprobColor(-6.0f)));
        const QString tip = tokenToolTip(*d, 2);
        QVERIFY2(tip.contains("' two'") && tip.contains("id 33") && tip.contains("-6.000"),
                 qPrintable(tip));
        QVERIFY(tip.contains(QString::number(std::exp(-6.0), 'f', 3)));
        QVERIFY(tokenToolTip(*d, 3).isEmpty());
        // The view finds the token under the mouse.
        RolloutDetailView view;
        view.resize(800, 900);
        view.setDetail(d, {});
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        // The view finds the token under the mouse: the middle of token 1's text on screen.
        QTextBrowser* b = view.browser();
        QTextCursor c(b->document());
        bool found = false;
        for (QTextBlock block = b->document()->begin(); block.isValid() && !found;
             block = block.next())
            for (auto it = block.begin(); !it.atEnd() && !found; ++it)
                if (it.fragment().charFormat().anchorHref() == "tok:1") {
                    c.setPosition(it.fragment().position() + 1);
                    found = true;
                }
        QVERIFY(found);
        b->setTextCursor(c);
        b->ensureCursorVisible();
        const QRect at = b->cursorRect(c);
        found = view.toolTipAt(QPoint(at.left() - 2, at.center().y())).contains("id 22");
        QVERIFY(found);
    }

    // Tokens of equal log-prob and different entropies: one colour by log-prob, by entropy
    // white at 0 nats and more saturated as the entropy grows; the tooltip names both.
    void tokensColouredByEntropy() {
        auto d = makeDetail(false);
        d->record.logprobs = {-0.5f, -0.5f, -0.5f};
        d->record.entropies = {0.0f, 1.0f, 3.0f};
        RolloutDetailView view;
        view.resize(800, 900);
        view.setDetail(d, {});
        QVERIFY(view.tokenColour() == TokenColour::LogProb);
        auto spans = tokenBackgrounds(view);
        QCOMPARE(spans.size(), 3);
        QCOMPARE(spans[0], spans[1]);
        QCOMPARE(spans[1], spans[2]);
        QVERIFY(spans[0] != QColor(Qt::white));  // p = 0.61 is coloured

        view.colourBy()->setCurrentIndex(view.colourBy()->findText("entropy"));
        QVERIFY(view.tokenColour() == TokenColour::Entropy);
        spans = tokenBackgrounds(view);
        QCOMPARE(spans.size(), 3);
        QCOMPARE(spans[0], QColor(Qt::white));
        QVERIFY(spans[1].hsvSaturation() > 0);
        QVERIFY(spans[2].hsvSaturation() > spans[1].hsvSaturation());
        for (int i : {1, 2}) QVERIFY(spans[i].hsvHue() > 180 && spans[i].hsvHue() < 260);  // blue
        QVERIFY(view.browser()->toPlainText().contains("entropy (nats)"));  // the legend
        const QString tip = tokenToolTip(*d, 2);
        QVERIFY2(tip.contains("log-prob -0.500") && tip.contains("entropy 3.000 nats"),
                 qPrintable(tip));

        // A rollout without entropies stays coloured by log-prob under the same choice.
        auto old = makeDetail(false);
        view.setDetail(old, {});
        QVERIFY(view.tokenColour() == TokenColour::LogProb);
        spans = tokenBackgrounds(view);
        QCOMPARE(spans.size(), 3);
        QCOMPARE(spans[0], QColor(Qt::white));  // log-prob 0: p = 1
        QVERIFY(spans[2].hsvHue() < 60);        // p = e^-6: the red end
        QVERIFY(!tokenToolTip(*old, 2).contains("entropy"));
    }

    void groupSideBySide() {
        RolloutDetailView view;
        view.setDetail(makeDetail(false), {"p0", "p1", "p2", "p3"});
        QCOMPARE(view.groupTable()->rowCount(), 4);
        QCOMPARE(view.groupTable()->item(2, 1)->text(), QString("0.5"));
        QCOMPARE(view.groupTable()->item(3, 4)->text(), QString("p3"));
        QVERIFY(!view.badge()->text().contains("zero std"));
        QSignalSpy spy(&view, &RolloutDetailView::sampleActivated);
        view.stepSample(1);  // sample 1 -> 2
        QCOMPARE(spy.takeFirst()[0].toLongLong(), 42);
        view.stepSample(-2);  // sample 1 -> 3 (wraps)
        QCOMPARE(spy.takeFirst()[0].toLongLong(), 43);
        view.setDetail(makeDetail(true), {});
        QVERIFY(view.badge()->text().contains("zero std"));
    }
};

REFLAB_TEST_GUI(TestRolloutDetail);
#include "test_rollout_detail.moc"
