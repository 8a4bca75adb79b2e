// The Compare panel (see compare_panel.h).
#include "ui/compare/compare_panel.h"

#include <QFile>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/analysis/run_compare_report.h"
#include "ui/compare/compare_tables.h"
#include "ui/compare/lineage_view.h"
#include "ui/compare/prompt_compare_view.h"

namespace reflab::ui {

ComparePanel::ComparePanel(QWidget* parent) : QWidget(parent) {
    setObjectName("comparePanel");
    m_loader = new CompareLoader(this);
    auto* layout = new QVBoxLayout(this);

    auto* bar = new QHBoxLayout;
    m_title = new QLabel(this);
    m_title->setObjectName("compareTitle");
    m_title->setTextFormat(Qt::RichText);
    m_runPicker = new QToolButton(this);
    m_runPicker->setObjectName("runPicker");
    m_runPicker->setText(tr("Runs"));
    m_runPicker->setPopupMode(QToolButton::InstantPopup);
    m_runPicker->setMenu(new QMenu(m_runPicker));
    m_metricPicker = new QToolButton(this);
    m_metricPicker->setObjectName("metricPicker");
    m_metricPicker->setText(tr("Metrics"));
    m_metricPicker->setPopupMode(QToolButton::InstantPopup);
    m_metricPicker->setMenu(new QMenu(m_metricPicker));
    bar->addWidget(m_title, 1);
    bar->addWidget(m_runPicker);
    bar->addWidget(m_metricPicker);
    layout->addLayout(bar);

    m_warning = new QLabel(this);
    m_warning->setObjectName("compareWarning");
    m_warning->setWordWrap(true);
    m_warning->setStyleSheet(
        "QLabel { background: rgba(255, 190, 0, 60); border: 1px solid rgba(200, 140, 0, 160);"
        " padding: 4px; }");
    m_warning->hide();
    layout->addWidget(m_warning);

    m_views = new QTabWidget(this);
    m_views->setObjectName("compareViews");
    m_views->setDocumentMode(true);

    // Set-up: diff table and lineage.
    auto* setup = new QWidget(m_views);
    auto* setupLayout = new QVBoxLayout(setup);
    m_diff = new QTableWidget(setup);
    m_diff->setObjectName("recipeDiff");
    m_diff->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_diff->verticalHeader()->hide();
    m_diff->horizontalHeader()->setStretchLastSection(true);
    m_lineage = new QLabel(setup);
    m_lineage->setObjectName("lineage");
    m_lineageView = new LineageView(setup);
    m_lineageScroll = new QScrollArea(setup);
    m_lineageScroll->setWidget(m_lineageView);
    m_lineageScroll->setFrameShape(QFrame::NoFrame);
    m_lineageScroll->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    m_lineageScroll->setMaximumHeight(260);
    setupLayout->addWidget(m_diff, 1);
    setupLayout->addWidget(m_lineage);
    setupLayout->addWidget(m_lineageScroll);
    m_views->addTab(setup, tr("Set-up"));

    // Summary: sortable table and its exports.
    auto* summary = new QWidget(m_views);
    auto* summaryLayout = new QVBoxLayout(summary);
    m_summaryModel = new QStandardItemModel(this);
    m_summaryProxy = new QSortFilterProxyModel(this);
    m_summaryProxy->setSourceModel(m_summaryModel);
    m_summaryProxy->setSortRole(kSortRole);
    m_summary = new QTableView(summary);
    m_summary->setObjectName("summaryTable");
    m_summary->setModel(m_summaryProxy);
    m_summary->setSortingEnabled(true);
    m_summary->sortByColumn(-1, Qt::AscendingOrder);  // creation order until a header is clicked
    m_summary->verticalHeader()->hide();
    m_summary->setSelectionBehavior(QAbstractItemView::SelectRows);
    auto* exports = new QHBoxLayout;
    auto* csv = new QPushButton(tr("Export CSV..."), summary);
    csv->setObjectName("exportCsv");
    auto* md = new QPushButton(tr("Export Markdown..."), summary);
    md->setObjectName("exportMarkdown");
    exports->addStretch(1);
    exports->addWidget(csv);
    exports->addWidget(md);
    summaryLayout->addWidget(m_summary, 1);
    summaryLayout->addLayout(exports);
    connect(csv, &QPushButton::clicked, this, [this] { exportSummary(false); });
    connect(md, &QPushButton::clicked, this, [this] { exportSummary(true); });
    m_views->addTab(summary, tr("Summary"));

    // Charts: the Dashboard's chart, one per chosen metric.
    auto* scroll = new QScrollArea(m_views);
    scroll->setWidgetResizable(true);
    m_chartHost = new QWidget(scroll);
    m_chartGrid = new QGridLayout(m_chartHost);
    scroll->setWidget(m_chartHost);
    m_chartPage = scroll;
    m_views->addTab(scroll, tr("Charts"));
    m_chartTimer = new QTimer(this);
    m_chartTimer->setInterval(0);
    connect(m_chartTimer, &QTimer::timeout, this, &ComparePanel::addNextChart);
    connect(m_views, &QTabWidget::currentChanged, this, [this] { rebuildCharts(); });

    // Validity: how well each reward component separates correct from incorrect rollouts.
    m_validityPage = new QWidget(m_views);
    auto* validityLayout = new QVBoxLayout(m_validityPage);
    m_validityStatus = new QLabel(m_validityPage);
    m_validityStatus->setObjectName("validityStatus");
    m_validityStatus->setWordWrap(true);
    m_validity = new QTableWidget(m_validityPage);
    m_validity->setObjectName("validityTable");
    m_validity->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_validity->verticalHeader()->hide();
    m_validity->horizontalHeader()->setStretchLastSection(true);
    validityLayout->addWidget(m_validityStatus);
    validityLayout->addWidget(m_validity, 1);
    m_views->addTab(m_validityPage, tr("Validity"));
    connect(m_views, &QTabWidget::currentChanged, this, [this] { requestValidity(); });

    m_prompt = new PromptCompareView(m_views);
    m_views->addTab(m_prompt, tr("Same prompt"));
    layout->addWidget(m_views, 1);

    connect(m_loader, &CompareLoader::compared, this, &ComparePanel::onCompared);
    connect(m_loader, &CompareLoader::failed, this, [this](const QString& error) {
        m_warning->setText(error);
        m_warning->show();
    });
    connect(m_loader, &CompareLoader::validityLoaded, this,
            [this](const QStringList& runs, const std::vector<analysis::ValidityRow>& rows) {
                if (runs != m_validityRuns) return;
                m_validityRows = rows;
                fillValidityTable(m_validity, m_validityRows, names());
                m_validityStatus->setText(
                    tr("AUROC of each reward component (and the total) for correct vs "
                       "incorrect rollouts: 0.5 is chance, 1 a perfect separation, below 0.5 "
                       "rewards wrong answers; set:NAME rows judge a reward set's rewards "
                       "(reflab-cli rescore) of the same rollouts. 95% intervals: DeLong's."));
            });
    connect(m_loader, &CompareLoader::promptsFound, m_prompt,
            [this](const QString&, const std::vector<store::PromptMatch>& found) {
                m_prompt->showMatches(found);
            });
    connect(m_loader, &CompareLoader::promptLoaded, m_prompt,
            [this](const QString& id, qint64, const std::vector<PromptColumn>& columns) {
                m_prompt->showColumns(id, columns);
            });
    connect(m_prompt, &PromptCompareView::searchRequested, m_loader,
            [this](const QString& q) { m_loader->searchPrompts(q); });
    connect(m_prompt, &PromptCompareView::promptRequested, m_loader,
            [this](const QString& id, qint64 step) { m_loader->loadPrompt(m_runs, id, step); });
    m_store.setSmoothing(0.6);
    reload();
}

void ComparePanel::setWorkspace(const QString& path) {
    m_loader->setWorkspace(path);
    m_runs.clear();
    m_comparison = {};
    reload();
}

void ComparePanel::setRunStyles(const QHash<QString, RunStyle>& styles) {
    m_styles = styles;
    rebuildPickers();
    if (!m_validityRows.empty()) fillValidityTable(m_validity, m_validityRows, names());
    m_prompt->setRuns(m_runs, m_styles);
    if (!m_comparison.runs.empty()) onCompared(m_comparison, {}, m_available);  // new names
}

void ComparePanel::setRuns(const QStringList& runs) {
    if (runs == m_runs) return;
    m_runs = runs;
    reload();
}

void ComparePanel::setMetrics(const QStringList& metrics) {
    if (metrics == m_metrics) return;
    m_metrics = metrics;
    reload();
}

void ComparePanel::setSmoothing(double weight) {
    if (weight == m_store.smoothing()) return;
    m_store.setSmoothing(weight);
    for (MetricChart* c : std::as_const(m_charts)) {
        c->setRawVisible(weight > 0);
        c->refreshSmoothed();
        c->replot();
    }
}

QHash<QString, QString> ComparePanel::names() const {
    // A name two compared runs share (the demo trained twice) gets the run's id beside it, so
    // the tables' rows can be told apart.
    QHash<QString, int> uses;
    for (const QString& id : m_runs) ++uses[m_styles.value(id, {id, Qt::gray}).name];
    QHash<QString, QString> out;
    for (auto it = m_styles.cbegin(); it != m_styles.cend(); ++it)
        out.insert(it.key(), uses.value(it->name) > 1
                                 ? QStringLiteral("%1 (%2)").arg(it->name, it.key())
                                 : it->name);
    return out;
}

void ComparePanel::reload() {
    rebuildPickers();
    m_prompt->setRuns(m_runs, m_styles);
    if (m_runs.size() < 2 || m_loader->workspace().isEmpty()) {
        m_title->setText(m_loader->workspace().isEmpty()
                             ? tr("<b>Compare</b>: open a workspace first.")
                             : tr("<b>Compare</b>: tick two or more runs in the Runs dock, or "
                                  "pick them here."));
        m_warning->hide();
        return;
    }
    m_title->setText(tr("<b>Compare</b>: loading %1 runs...").arg(m_runs.size()));
    QStringList metrics = m_metrics;
    m_loader->compare(m_runs, metrics);
    m_validityRuns.clear();  // stale: reread when next shown
    m_validityRows.clear();
    requestValidity();
}

void ComparePanel::requestValidity() {
    if (m_views->currentWidget() != m_validityPage || m_runs.size() < 2 ||
        m_loader->workspace().isEmpty() || m_validityRuns == m_runs)
        return;
    m_validityRuns = m_runs;
    m_validity->setRowCount(0);
    m_validityRows.clear();
    m_validityStatus->setText(tr("Computing the reward validity of %1 runs...").arg(m_runs.size()));
    m_loader->loadValidity(m_runs);
}

void ComparePanel::onCompared(const analysis::Comparison& c, const SeriesBatch& series,
                              const QStringList& available) {
    // Runs that changed while this was loading: a newer answer follows.
    m_comparison = c;
    m_available = available;
    const auto n = names();
    QStringList labels;
    for (const auto& r : c.runs) {
        const QString id = QString::fromStdString(r.id);
        const RunStyle s = m_styles.value(id, {id, Qt::gray});
        labels << QStringLiteral("<span style='color:%1'>&#9632;</span> %2")
                      .arg(s.color.name(), s.name.toHtmlEscaped());
    }
    m_title->setText(tr("<b>Compare</b>: ") + labels.join(" &nbsp; "));
    QStringList warnings;
    for (const auto& w : c.warnings) warnings << QString::fromStdString(w);
    m_warning->setText(tr("Warning: ") + warnings.join("; "));
    m_warning->setVisible(!warnings.isEmpty());
    fillDiffTable(m_diff, c, n);
    const QString lineage = lineageText(c, n);
    m_lineage->setText(lineage.isEmpty() ? tr("No run of these descends from another.")
                                         : tr("Fork lineage (parent -> child at the "
                                              "checkpoint step):"));
    m_lineage->setToolTip(lineage);
    QStringList compared;
    for (const auto& r : c.runs) compared << QString::fromStdString(r.id);
    m_lineageView->setLineage(lineage.isEmpty() ? QStringList() : compared, c.lineage, m_styles);
    m_lineageView->setVisible(!lineage.isEmpty());
    m_lineageView->resize(m_lineageView->sizeHint());
    // The graph whole up to 260 pixels (the diff table above stretches and would squeeze it to
    // a sliver); past that it scrolls.
    m_lineageScroll->setVisible(!lineage.isEmpty());
    m_lineageScroll->setMinimumHeight(
        std::min(260, m_lineageView->sizeHint().height() + 2 * m_lineageScroll->frameWidth() +
                          m_lineageScroll->horizontalScrollBar()->sizeHint().height()));
    fillSummaryModel(m_summaryModel, c);
    m_summary->resizeColumnsToContents();
    if (!series.isEmpty()) {
        m_store.clear();
        m_store.append(series);
    }
    rebuildPickers();
    clearCharts();
    m_chartsStale = true;
    rebuildCharts();
}

void ComparePanel::clearCharts() {
    m_chartTimer->stop();
    m_chartNext = -1;
    for (MetricChart* c : std::as_const(m_charts)) c->deleteLater();
    m_charts.clear();
}

void ComparePanel::rebuildCharts() {
    if (!m_chartsStale || m_views->currentWidget() != m_chartPage) return;
    clearCharts();
    m_chartsStale = false;
    m_chartNext = 0;
    m_chartTimer->start();
}

void ComparePanel::addNextChart() {
    const int i = m_chartNext;
    if (i < 0 || i >= static_cast<int>(m_comparison.metrics.size())) {
        m_chartTimer->stop();
        m_chartNext = -1;
        return;
    }
    ++m_chartNext;
    QHash<QString, RunStyle> styles;
    QStringList runs;
    for (const auto& r : m_comparison.runs) {
        const QString id = QString::fromStdString(r.id);
        runs << id;
        styles.insert(id, m_styles.value(id, {id, Qt::gray}));
    }
    auto* chart = new MetricChart(QString::fromStdString(m_comparison.metrics[size_t(i)]), &m_store,
                                  m_chartHost);
    chart->setMinimumHeight(240);
    chart->setRawVisible(m_store.smoothing() > 0);
    chart->setRuns(runs, styles);
    bool found = false;
    const QCPRange range = chart->dataKeyRange(found);
    if (found) chart->setKeyRange(range);
    chart->fitValueRange();
    // No replot here: the layout's resize draws it at its final size.
    m_chartGrid->addWidget(chart, i / 2, i % 2);
    m_charts << chart;
}

void ComparePanel::rebuildPickers() {
    QMenu* runMenu = m_runPicker->menu();
    runMenu->clear();
    QStringList ids = m_styles.keys();
    std::sort(ids.begin(), ids.end(), [this](const QString& a, const QString& b) {
        return m_styles[a].name < m_styles[b].name;
    });
    for (const QString& id : ids) {
        QAction* a = runMenu->addAction(m_styles[id].name);
        a->setCheckable(true);
        a->setChecked(m_runs.contains(id));
        connect(a, &QAction::toggled, this, [this, id](bool on) {
            QStringList runs = m_runs;
            if (on && !runs.contains(id)) runs << id;
            if (!on) runs.removeAll(id);
            setRuns(runs);
            emit runsPicked(runs);
        });
    }
    m_runPicker->setEnabled(!ids.isEmpty());

    QMenu* metricMenu = m_metricPicker->menu();
    metricMenu->clear();
    QStringList shown;
    for (const auto& m : m_comparison.metrics) shown << QString::fromStdString(m);
    QStringList all = m_available;
    std::sort(all.begin(), all.end(), [](const QString& a, const QString& b) {
        return metricOrderKey(a) < metricOrderKey(b);
    });
    for (const QString& m : std::as_const(all)) {
        QAction* a = metricMenu->addAction(m);
        a->setCheckable(true);
        a->setChecked(shown.contains(m));
        connect(a, &QAction::toggled, this, [this, m, shown](bool on) {
            QStringList metrics = shown;
            if (on && !metrics.contains(m)) metrics << m;
            if (!on) metrics.removeAll(m);
            setMetrics(metrics);
        });
    }
    m_metricPicker->setEnabled(!all.isEmpty());
}

QString ComparePanel::summaryCsv() const {
    return QString::fromStdString(analysis::tableCsv(analysis::summaryTable(m_comparison)));
}

QString ComparePanel::summaryMarkdown() const {
    return QString::fromStdString(analysis::tableMarkdown(analysis::summaryTable(m_comparison)));
}

void ComparePanel::exportSummary(bool markdown) {
    const QString path = QFileDialog::getSaveFileName(
        this, markdown ? tr("Export summary as Markdown") : tr("Export summary as CSV"),
        markdown ? "compare.md" : "compare.csv",
        markdown ? tr("Markdown (*.md)") : tr("CSV (*.csv)"));
    if (path.isEmpty()) return;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) ||
        f.write((markdown ? summaryMarkdown() : summaryCsv()).toUtf8()) < 0) {
        m_warning->setText(tr("Cannot write %1: %2").arg(path, f.errorString()));
        m_warning->show();
    }
}

}  // namespace reflab::ui
