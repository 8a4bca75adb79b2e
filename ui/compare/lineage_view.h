// LineageView: the Compare tab's fork lineage drawn as a graph. Each run is a box (in its run
// colour; an ancestor that is not compared is grey and dashed), each fork an arrow from the
// parent to the child labelled with the parent's checkpoint step. Layout: a run's column is its
// depth (number of ancestors), rows follow a depth-first walk from the roots, so a run's
// children sit just below it. Layout is computed when the lineage is set (nodes(), edges() and
// nodeRect() expose it to tests); painting only draws it.
#pragma once
#include <QHash>
#include <QVector>
#include <QWidget>

#include "core/analysis/run_compare.h"
#include "ui/dashboard/metric_chart.h"

namespace reflab::ui {

class LineageView : public QWidget {
    Q_OBJECT
public:
    struct Node {
        QString run, label;
        QColor color;
        bool compared = false;
        int depth = 0, row = 0;
    };
    struct Edge {
        int parent = 0, child = 0;  // indexes into nodes()
        qint64 step = -1;
    };

    explicit LineageView(QWidget* parent = nullptr);
    // compared: the runs of the comparison, in order; links: every ancestor link of them.
    void setLineage(const QStringList& compared, const std::vector<analysis::LineageLink>& links,
                    const QHash<QString, RunStyle>& styles);
    const QVector<Node>& nodes() const { return m_nodes; }
    const QVector<Edge>& edges() const { return m_edges; }
    int indexOf(const QString& run) const { return m_index.value(run, -1); }
    QRectF nodeRect(int i) const;
    QString edgeLabel(const Edge& e) const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return sizeHint(); }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    QVector<Node> m_nodes;
    QVector<Edge> m_edges;
    QHash<QString, int> m_index;
    int m_rows = 0, m_depth = 0;
};

}  // namespace reflab::ui
