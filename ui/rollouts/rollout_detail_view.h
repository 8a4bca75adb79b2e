// RolloutDetailView: the Rollouts panel's detail pane for one rollout: its texts, reward
// breakdown and coloured tokens (rollout_detail_html.h) in a browser whose tokens show a
// tooltip (text, id, log-prob, entropy) and a "colour by: log-prob | entropy" choice (entropy
// where the run stored it), and below them its whole group side by side (sample, reward,
// advantage, length, a one-line preview) with a badge when every reward of the group is equal.
// Clicking a group member, or Alt+Up/Alt+Down, asks for that member (sampleActivated).
#pragma once
#include <QWidget>
#include <memory>

#include "core/store/workspace.h"
#include "ui/rollouts/rollout_detail_html.h"

class QComboBox;
class QLabel;
class QTableWidget;
class QTextBrowser;

namespace reflab::ui {

class RolloutDetailView : public QWidget {
    Q_OBJECT
public:
    explicit RolloutDetailView(QWidget* parent = nullptr);

    void setDetail(std::shared_ptr<store::RolloutDetail> detail, const QStringList& previews);
    void setMessage(const QString& text);  // no rollout: a hint or an error
    void clear() { setMessage({}); }
    // The group member `delta` samples away from the shown one (wraps); emits sampleActivated.
    void stepSample(int delta);

    const store::RolloutDetail* detail() const { return m_detail.get(); }
    QTextBrowser* browser() const { return m_browser; }
    QTableWidget* groupTable() const { return m_group; }
    QLabel* badge() const { return m_badge; }
    QComboBox* colourBy() const { return m_colourBy; }
    // What the tokens are coloured by now (log-prob when the rollout stored no entropies).
    TokenColour tokenColour() const;
    QString toolTipAt(const QPoint& viewport_pos) const;  // a token's tooltip, or ""

signals:
    void sampleActivated(qint64 rollout_id);

private:
    void render();  // the browser's HTML for m_detail, the scroll position kept

    std::shared_ptr<store::RolloutDetail> m_detail;
    QComboBox* m_colourBy = nullptr;
    QTextBrowser* m_browser = nullptr;
    QLabel* m_badge = nullptr;
    QTableWidget* m_group = nullptr;
};

}  // namespace reflab::ui
