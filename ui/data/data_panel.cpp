// The Data panel (see data_panel.h).
#include "ui/data/data_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>

#include "ui/data/jsonl_model.h"

namespace reflab::ui {

DataPanel::DataPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("dataPanel");
    m_scan = new JsonlScan(this);
    m_model = new JsonlModel(this);
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    auto* open = new QPushButton(tr("Open data set..."), this);
    open->setObjectName("openDataset");
    m_summary = new QLabel(tr("Open a JSONL data set to view it (read-only)."), this);
    m_summary->setObjectName("datasetSummary");
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->hide();
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->hide();
    bar->addWidget(open);
    bar->addWidget(m_summary, 1);
    bar->addWidget(m_progress);
    bar->addWidget(m_cancel);
    layout->addLayout(bar);

    auto* split = new QSplitter(Qt::Vertical, this);
    m_table = new QTableView(split);
    m_table->setObjectName("datasetTable");
    m_table->setModel(m_model);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setDefaultSectionSize(22);
    // Column widths from the first 100 rows only (Qt's default reads 1000 rows of the file).
    m_table->horizontalHeader()->setResizeContentsPrecision(100);
    auto* lower = new QSplitter(Qt::Horizontal, split);
    m_stats = new QTableWidget(lower);
    m_stats->setObjectName("fieldStats");
    m_stats->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_stats->verticalHeader()->hide();
    m_bad = new QListWidget(lower);
    m_bad->setObjectName("badLines");
    lower->addWidget(m_stats);
    lower->addWidget(m_bad);
    lower->setStretchFactor(0, 3);
    lower->setStretchFactor(1, 1);
    split->addWidget(m_table);
    split->addWidget(lower);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);

    connect(open, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open data set"), QString(),
                                                          tr("JSON Lines (*.jsonl *.json)"));
        if (!path.isEmpty()) openFile(path);
    });
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_scan->cancel();
        m_progress->hide();
        m_cancel->hide();
        m_summary->setText(tr("Cancelled."));
    });
    connect(m_scan, &JsonlScan::progress, this, [this](qint64 bytes, qint64 total) {
        m_progress->setValue(total > 0 ? static_cast<int>(1000 * bytes / total) : 0);
    });
    connect(m_scan, &JsonlScan::failed, this, [this](const QString& error) {
        m_progress->hide();
        m_cancel->hide();
        m_summary->setText(error);
    });
    connect(m_scan, &JsonlScan::finished, this, &DataPanel::showIndex);
}

void DataPanel::openFile(const QString& path) {
    m_summary->setText(tr("Indexing %1 ...").arg(QFileInfo(path).fileName()));
    m_progress->setValue(0);
    m_progress->show();
    m_cancel->show();
    m_scan->start(path);
}

void DataPanel::showIndex(std::shared_ptr<const JsonlIndex> index) {
    m_progress->hide();
    m_cancel->hide();
    m_model->setIndex(index);
    m_summary->setText(tr("%1: %2 rows, %3 fields, %4 bad lines, %5 KiB")
                           .arg(index->path)
                           .arg(index->rows())
                           .arg(index->fields.size())
                           .arg(index->bad.size())
                           .arg(index->size / 1024));
    const QStringList headers = {tr("Field"),      tr("Rows"),       tr("Empty"),
                                 tr("Duplicates"), tr("Min length"), tr("Mean length"),
                                 tr("Max length")};
    m_stats->clear();
    m_stats->setColumnCount(headers.size());
    m_stats->setHorizontalHeaderLabels(headers);
    m_stats->setRowCount(static_cast<int>(index->fields.size()));
    for (int r = 0; r < index->fields.size(); ++r) {
        const QString& f = index->fields[r];
        const FieldStats s = index->stats.value(f);
        const QStringList cells = {f,
                                   QString::number(s.present),
                                   QString::number(s.empty),
                                   QString::number(s.duplicates),
                                   QString::number(s.min_length),
                                   QString::number(s.mean_length, 'f', 1),
                                   QString::number(s.max_length)};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (c > 0) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_stats->setItem(r, c, item);
        }
    }
    m_stats->resizeColumnsToContents();
    m_bad->clear();
    for (const auto& b : index->bad) m_bad->addItem(tr("line %1: %2").arg(b.line).arg(b.reason));
    if (index->bad.isEmpty()) m_bad->addItem(tr("Every line is a JSON object."));
    m_table->resizeColumnsToContents();
    for (int c = 0; c < m_model->columnCount(); ++c)
        m_table->setColumnWidth(c, std::min(m_table->columnWidth(c), 420));
    emit opened(index->path);
}

}  // namespace reflab::ui
