// The Data panel (see data_panel.h).
#include "ui/data/data_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMetaObject>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/data/jsonl_model.h"
#include "ui/data/reverse_flow.h"

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
    m_fields = new QToolButton(this);
    m_fields->setObjectName("neededFields");
    m_fields->setText(tr("Needed fields"));
    m_fields->setToolTip(tr("The fields every row must have (a row lacking one cannot be used)"));
    m_fields->setPopupMode(QToolButton::InstantPopup);
    m_fields->setMenu(new QMenu(m_fields));
    m_fields->setEnabled(false);
    bar->addWidget(m_fields);
    m_save = new QPushButton(tr("Save usable rows..."), this);
    m_save->setObjectName("saveUsable");
    m_save->setEnabled(false);
    bar->addWidget(m_save);
    layout->addLayout(bar);

    auto* banner = new QFrame(this);
    banner->setObjectName("skipBanner");
    banner->setStyleSheet(
        "#skipBanner { background: rgba(255, 190, 0, 60); border: 1px solid rgba(200, 140, 0, "
        "160); }");
    auto* bannerLayout = new QHBoxLayout(banner);
    bannerLayout->setContentsMargins(6, 3, 6, 3);
    m_bannerText = new QLabel(banner);
    m_bannerText->setObjectName("skipText");
    m_bannerText->setWordWrap(true);
    m_skip = new QPushButton(banner);
    m_skip->setObjectName("skipButton");
    bannerLayout->addWidget(m_bannerText, 1);
    bannerLayout->addWidget(m_skip);
    banner->hide();
    m_banner = banner;
    layout->addWidget(banner);

    m_pages = new QTabWidget(this);
    m_pages->setObjectName("dataPages");
    m_pages->setDocumentMode(true);
    auto* split = new QSplitter(Qt::Vertical, m_pages);
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
    m_pages->addTab(split, tr("Data set"));
    m_flow = new ReverseFlow(this, m_pages);
    m_pages->addTab(m_flow, tr("Reverse reasoning"));
    // The flow's fields become the needed ones when it is shown (the viewer alone needs none).
    connect(m_pages, &QTabWidget::currentChanged, this, [this] {
        if (m_pages->currentWidget() == m_flow) m_flow->applyNeededFields();
    });
    layout->addWidget(m_pages, 1);

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
    connect(m_skip, &QPushButton::clicked, this, &DataPanel::consentToSkip);
    connect(m_save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save usable rows"), QString(),
                                                          tr("JSON Lines (*.jsonl)"));
        QString error;
        if (!path.isEmpty() && !saveUsable(path, &error)) m_summary->setText(error);
    });
    connect(this, &DataPanel::usableSaved, this,
            [this](const QString& path, qint64 rows, const QString& error) {
                m_summary->setText(error.isEmpty()
                                       ? tr("Saved %1 usable rows to %2.").arg(rows).arg(path)
                                       : error);
            });
}

void DataPanel::setNeededFields(const QStringList& fields) {
    m_needed = fields;
    m_consent = false;
    rebuildFieldMenu();
    recheck();
}

void DataPanel::rebuildFieldMenu() {
    QMenu* menu = m_fields->menu();
    menu->clear();
    QStringList all = m_index ? m_index->fields : QStringList();
    for (const QString& f : m_needed)
        if (!all.contains(f)) all << f;  // asked for, but no row has it
    for (const QString& f : all) {
        QAction* a = menu->addAction(f);
        a->setCheckable(true);
        a->setChecked(m_needed.contains(f));
        connect(a, &QAction::toggled, this, [this, f](bool on) {
            QStringList next = m_needed;
            if (on && !next.contains(f)) next << f;
            if (!on) next.removeAll(f);
            setNeededFields(next);
        });
    }
    m_fields->setEnabled(!all.isEmpty());
    m_fields->setText(m_needed.isEmpty() ? tr("Needed fields")
                                         : tr("Needs: %1").arg(m_needed.join(", ")));
}

void DataPanel::recheck() {
    m_bad->clear();
    if (!m_index) {
        m_unusable = {};
        m_banner->hide();
        m_save->setEnabled(false);
        return;
    }
    m_unusable = unusableRows(*m_index, m_needed);
    for (const auto& b : m_unusable.lines)
        m_bad->addItem(tr("line %1: %2").arg(b.line).arg(b.reason));
    if (m_unusable.lines.isEmpty())
        m_bad->addItem(m_needed.isEmpty()
                           ? tr("Every line is a JSON object.")
                           : tr("Every line is a JSON object with %1.").arg(m_needed.join(", ")));
    for (const QString& f : m_unusable.unchecked)
        m_bad->addItem(tr("\"%1\" is past the first %2 fields: not checked per row")
                           .arg(f)
                           .arg(JsonlIndex::kMaskedFields));
    const qint64 n = m_unusable.rows.size();
    if (n == 0) {
        m_banner->hide();
    } else {
        QStringList parts;
        if (m_unusable.not_object) parts << tr("%1 not a JSON object").arg(m_unusable.not_object);
        if (m_unusable.lacking)
            parts << tr("%1 lacking %2").arg(m_unusable.lacking).arg(m_needed.join(" or "));
        QStringList first;
        for (int i = 0; i < std::min<int>(5, int(m_unusable.lines.size())); ++i)
            first << QString::number(m_unusable.lines[i].line);
        const QString where =
            tr("line %1%2").arg(first.join(", "), n > 5 ? QStringLiteral(", ...") : QString());
        m_bannerText->setText(
            m_consent ? tr("%1 bad lines (%2; %3) will be skipped: %4 of %5 rows are used.")
                            .arg(n)
                            .arg(parts.join(", "), where)
                            .arg(m_index->rows() - n)
                            .arg(m_index->rows())
                      : tr("%1 lines cannot be used (%2; %3). They are left out only if you "
                           "agree.")
                            .arg(n)
                            .arg(parts.join(", "), where));
        m_skip->setText(tr("Skip %1 bad lines").arg(n));
        m_skip->setEnabled(!m_consent);
        m_banner->show();
    }
    m_save->setEnabled(n == 0 || m_consent);
}

void DataPanel::consentToSkip() {
    if (m_unusable.rows.isEmpty()) return;
    m_consent = true;
    recheck();
}

bool DataPanel::saveUsable(const QString& path, QString* error) {
    if (!m_index) {
        if (error) *error = tr("Open a data set first.");
        return false;
    }
    if (!m_unusable.rows.isEmpty() && !m_consent) {
        if (error)
            *error = tr("%1 lines cannot be used: skip them first (or fix the file).")
                         .arg(m_unusable.rows.size());
        return false;
    }
    if (QFileInfo(path).absoluteFilePath() == QFileInfo(m_index->path).absoluteFilePath()) {
        if (error) *error = tr("%1: choose another file than the data set itself.").arg(path);
        return false;
    }
    auto index = m_index;
    const QVector<int> skip = m_unusable.rows;
    const qint64 rows = m_index->rows() - skip.size();
    QPointer<DataPanel> self(this);
    QMetaObject::invokeMethod(
        m_writer.worker(),
        [self, index, skip, path, rows] {
            QString err;
            std::atomic<bool> never{false};
            writeUsableRows(*index, skip, path, never, &err);
            QMetaObject::invokeMethod(
                self.data(),
                [self, path, rows, err] {
                    if (self) emit self->usableSaved(path, err.isEmpty() ? rows : 0, err);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
    return true;
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
    m_index = index;
    m_consent = false;
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
    rebuildFieldMenu();
    recheck();
    m_table->resizeColumnsToContents();
    for (int c = 0; c < m_model->columnCount(); ++c)
        m_table->setColumnWidth(c, std::min(m_table->columnWidth(c), 420));
    emit opened(index->path);
}

}  // namespace reflab::ui
