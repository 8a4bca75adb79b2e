// LineageView (see lineage_view.h).
#include "ui/compare/lineage_view.h"

#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <functional>

namespace reflab::ui {

namespace {
constexpr double kBoxW = 170, kBoxH = 30, kGapX = 110, kGapY = 14, kMargin = 10;
}

LineageView::LineageView(QWidget* parent) : QWidget(parent) {
    setObjectName("lineageView");
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void LineageView::setLineage(const QStringList& compared,
                             const std::vector<analysis::LineageLink>& links,
                             const QHash<QString, RunStyle>& styles) {
    m_nodes.clear();
    m_edges.clear();
    m_index.clear();
    const auto add = [&](const QString& run, bool is_compared) {
        if (m_index.contains(run)) {
            m_nodes[m_index[run]].compared |= is_compared;
            return m_index[run];
        }
        const RunStyle s = styles.value(run, {run, Qt::gray});
        Node n;
        n.run = run;
        n.label = s.name.isEmpty() ? run : s.name;
        n.color = is_compared ? s.color : QColor(Qt::gray);
        n.compared = is_compared;
        m_index.insert(run, int(m_nodes.size()));
        m_nodes.push_back(n);
        return int(m_nodes.size()) - 1;
    };
    for (const QString& r : compared) add(r, true);
    QHash<int, int> parentOf;  // child -> parent (a run has at most one parent)
    for (const auto& l : links) {
        const int child = add(QString::fromStdString(l.run), false);
        const int parent = add(QString::fromStdString(l.parent_run), false);
        if (child == parent || parentOf.contains(child)) continue;
        parentOf.insert(child, parent);
        m_edges.push_back({parent, child, l.parent_step});
    }
    // Depth: the number of ancestors (a cycle, which the store cannot hold, is cut).
    for (int i = 0; i < m_nodes.size(); ++i) {
        int d = 0;
        for (int p = i; parentOf.contains(p) && d <= m_nodes.size(); p = parentOf[p]) ++d;
        m_nodes[i].depth = std::min(d, int(m_nodes.size()));
    }
    // Rows: depth-first from each root, children in the order they were met.
    QHash<int, QVector<int>> children;
    for (const Edge& e : m_edges) children[e.parent].push_back(e.child);
    int row = 0;
    QVector<bool> placed(m_nodes.size(), false);
    std::function<void(int)> walk = [&](int i) {
        if (placed[i]) return;
        placed[i] = true;
        m_nodes[i].row = row++;
        for (int c : children.value(i)) walk(c);
    };
    for (int i = 0; i < m_nodes.size(); ++i)
        if (!parentOf.contains(i)) walk(i);
    for (int i = 0; i < m_nodes.size(); ++i) walk(i);  // anything left (a cut cycle)
    m_rows = row;
    m_depth = 0;
    for (const Node& n : m_nodes) m_depth = std::max(m_depth, n.depth);
    updateGeometry();
    update();
}

QRectF LineageView::nodeRect(int i) const {
    const Node& n = m_nodes[i];
    return {kMargin + n.depth * (kBoxW + kGapX), kMargin + n.row * (kBoxH + kGapY), kBoxW, kBoxH};
}

QString LineageView::edgeLabel(const Edge& e) const {
    return tr("step %1").arg(e.step);
}

QSize LineageView::sizeHint() const {
    if (m_nodes.isEmpty()) return {0, 0};
    return QSize(int(2 * kMargin + (m_depth + 1) * kBoxW + m_depth * kGapX),
                 int(2 * kMargin + m_rows * kBoxH + std::max(0, m_rows - 1) * kGapY));
}

void LineageView::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QColor ink = palette().color(QPalette::WindowText);
    // Edges first, under the boxes: parent's right edge -> child's left edge, an elbow.
    for (const Edge& e : m_edges) {
        const QRectF a = nodeRect(e.parent), b = nodeRect(e.child);
        const QPointF from(a.right(), a.center().y()), to(b.left(), b.center().y());
        const double midX = from.x() + kGapX / 2;
        QPainterPath path(from);
        path.lineTo(midX, from.y());
        path.lineTo(midX, to.y());
        path.lineTo(to);
        p.setPen(QPen(ink, 1.4));
        p.setBrush(Qt::NoBrush);
        p.drawPath(path);
        QPolygonF head;
        head << to << to + QPointF(-7, -4) << to + QPointF(-7, 4);
        p.setBrush(ink);
        p.drawPolygon(head);
        const QString label = edgeLabel(e);
        const QRectF text(midX + 4, to.y() - kBoxH / 2 - 1, to.x() - midX - 10, kBoxH / 2);
        p.setPen(ink);
        p.drawText(text, Qt::AlignLeft | Qt::AlignBottom, label);
    }
    for (int i = 0; i < m_nodes.size(); ++i) {
        const Node& n = m_nodes[i];
        const QRectF r = nodeRect(i);
        QColor fill = n.color;
        fill.setAlpha(n.compared ? 50 : 20);
        p.setBrush(fill);
        p.setPen(QPen(n.color, n.compared ? 2 : 1, n.compared ? Qt::SolidLine : Qt::DashLine));
        p.drawRoundedRect(r, 4, 4);
        p.setPen(ink);
        const QString text = n.compared ? n.label : tr("%1 (not compared)").arg(n.label);
        p.drawText(r.adjusted(6, 0, -6, 0), Qt::AlignVCenter | Qt::AlignLeft,
                   p.fontMetrics().elidedText(text, Qt::ElideRight, int(r.width() - 12)));
    }
}

}  // namespace reflab::ui
