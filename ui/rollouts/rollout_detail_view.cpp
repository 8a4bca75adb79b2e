// RolloutDetailView (see rollout_detail_view.h).
#include "ui/rollouts/rollout_detail_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QHelpEvent>
#include <QLabel>
#include <QScrollBar>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QToolTip>
#include <QVBoxLayout>

namespace reflab::ui {

namespace {

// A browser that shows the tooltip of the token under the mouse.
class TokenBrowser : public QTextBrowser {
public:
    explicit TokenBrowser(RolloutDetailView* owner) : QTextBrowser(owner), m_owner(owner) {}

protected:
    bool viewportEvent(QEvent* e) override {
        if (e->type() == QEvent::ToolTip) {
            auto* help = static_cast<QHelpEvent*>(e);
            const QString tip = m_owner->toolTipAt(help->pos());
            if (tip.isEmpty())
                QToolTip::hideText();
            else
                QToolTip::showText(help->globalPos(), tip, this);
            return true;
        }
        return QTextBrowser::viewportEvent(e);
    }

private:
    RolloutDetailView* m_owner;
};

}  // namespace

RolloutDetailView::RolloutDetailView(QWidget* parent) : QWidget(parent) {
    setObjectName("rolloutDetailView");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->setObjectName("rolloutDetailSplitter");
    auto* top = new QWidget(split);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    auto* colourRow = new QHBoxLayout;
    colourRow->addWidget(new QLabel(tr("Colour tokens by:"), top));
    m_colourBy = new QComboBox(top);
    m_colourBy->setObjectName("rolloutColourBy");
    m_colourBy->addItem(tr("log-prob"), int(TokenColour::LogProb));
    m_colourBy->addItem(tr("entropy"), int(TokenColour::Entropy));
    m_colourBy->setToolTip(
        tr("log-prob: how likely the sampled token was; entropy: how spread the distribution it "
           "was drawn from was (stored by runs whose recipe keeps generation.store_entropy)"));
    colourRow->addWidget(m_colourBy);
    colourRow->addStretch(1);
    topLayout->addLayout(colourRow);
    m_browser = new TokenBrowser(this);
    m_browser->setObjectName("rolloutDetail");
    m_browser->setOpenLinks(false);
    m_browser->setMouseTracking(true);
    auto* groupBox = new QWidget(split);
    auto* groupLayout = new QVBoxLayout(groupBox);
    groupLayout->setContentsMargins(0, 4, 0, 0);
    m_badge = new QLabel(groupBox);
    m_badge->setObjectName("rolloutGroupBadge");
    m_badge->setTextFormat(Qt::RichText);
    m_group = new QTableWidget(0, 5, groupBox);
    m_group->setObjectName("rolloutGroupTable");
    m_group->setHorizontalHeaderLabels(
        {tr("Sample"), tr("Reward"), tr("Advantage"), tr("Length"), tr("Preview")});
    m_group->verticalHeader()->hide();
    m_group->verticalHeader()->setDefaultSectionSize(20);
    m_group->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_group->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_group->setSelectionMode(QAbstractItemView::SingleSelection);
    m_group->horizontalHeader()->setStretchLastSection(true);
    m_group->setToolTip(tr("The rollout's group (Alt+Up / Alt+Down step through it)"));
    groupLayout->addWidget(m_badge);
    groupLayout->addWidget(m_group, 1);
    topLayout->addWidget(m_browser, 1);
    split->addWidget(top);
    split->addWidget(groupBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split);

    connect(m_colourBy, &QComboBox::currentIndexChanged, this, [this] { render(); });
    connect(m_group, &QTableWidget::cellClicked, this, [this](int row) {
        if (m_detail && row >= 0 && size_t(row) < m_detail->group.size())
            emit sampleActivated(m_detail->group[size_t(row)].id);
    });
    setMessage({});
}

void RolloutDetailView::setMessage(const QString& text) {
    m_detail.reset();
    m_browser->setPlainText(text);
    m_badge->clear();
    m_group->setRowCount(0);
}

void RolloutDetailView::setDetail(std::shared_ptr<store::RolloutDetail> detail,
                                  const QStringList& previews) {
    m_detail = std::move(detail);
    if (!m_detail) return setMessage({});
    render();
    const auto& group = m_detail->group;
    m_group->setRowCount(int(group.size()));
    bool flat = group.size() > 1;
    for (size_t i = 0; i < group.size(); ++i) {
        const store::RolloutRow& g = group[i];
        flat = flat && g.total_reward == group[0].total_reward;
        const QStringList cells = {
            QString::number(g.sample), QString::number(g.total_reward, 'g', 4),
            QString::number(g.advantage, 'g', 4), QString::number(g.completion_tokens),
            i < size_t(previews.size()) ? previews[int(i)] : QString()};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c < 4) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (g.id == m_detail->id) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            m_group->setItem(int(i), c, item);
        }
        if (g.id == m_detail->id) m_group->selectRow(int(i));
    }
    m_group->resizeColumnsToContents();
    m_badge->setText(
        flat ? tr("<span style='background:#c62828; color:white; padding:2px'>&nbsp;all %1 "
                  "rewards equal: zero std, no learning signal&nbsp;</span>")
                   .arg(group.size())
             : tr("Group of %1").arg(group.size()));
}

TokenColour RolloutDetailView::tokenColour() const {
    const bool stored = m_detail && !m_detail->record.entropies.empty() &&
                        m_detail->record.entropies.size() == m_detail->record.token_ids.size();
    return stored && m_colourBy->currentData().toInt() == int(TokenColour::Entropy)
               ? TokenColour::Entropy
               : TokenColour::LogProb;
}

void RolloutDetailView::render() {
    if (!m_detail) return;
    const int scroll = m_browser->verticalScrollBar()->value();
    m_browser->setHtml(rolloutDetailHtml(*m_detail, tokenColour()));
    m_browser->verticalScrollBar()->setValue(scroll);
}

void RolloutDetailView::stepSample(int delta) {
    if (!m_detail || m_detail->group.size() < 2) return;
    const auto& group = m_detail->group;
    int at = 0;
    for (size_t i = 0; i < group.size(); ++i)
        if (group[i].id == m_detail->id) at = int(i);
    const int n = int(group.size());
    emit sampleActivated(group[size_t(((at + delta) % n + n) % n)].id);
}

QString RolloutDetailView::toolTipAt(const QPoint& viewport_pos) const {
    if (!m_detail) return {};
    const QString anchor = m_browser->anchorAt(viewport_pos);
    if (!anchor.startsWith("tok:")) return {};
    return tokenToolTip(*m_detail, anchor.mid(4).toInt());
}

}  // namespace reflab::ui
