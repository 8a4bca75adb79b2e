// DatasetPicker (see dataset_picker.h).
#include "ui/setup/dataset_picker.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/data/jsonl_dataset.h"

namespace reflab::ui {

DatasetPicker::DatasetPicker(QWidget* parent) : QWidget(parent) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    auto* top = new QHBoxLayout;
    m_info = new QLabel(this);
    m_info->setObjectName("datasetInfo");
    m_info->setWordWrap(true);
    auto* browse = new QPushButton(tr("Choose JSONL..."), this);
    top->addWidget(m_info, 1);
    top->addWidget(browse);
    lay->addLayout(top);
    auto* fields = new QHBoxLayout;
    m_prompt = new QComboBox(this);
    m_prompt->setObjectName("promptField");
    m_reference = new QComboBox(this);
    m_reference->setObjectName("referenceField");
    fields->addWidget(new QLabel(tr("Prompt field"), this));
    fields->addWidget(m_prompt, 1);
    fields->addSpacing(12);
    fields->addWidget(new QLabel(tr("Reference field"), this));
    fields->addWidget(m_reference, 1);
    lay->addLayout(fields);
    m_preview = new QTableWidget(this);
    m_preview->setObjectName("datasetPreview");
    m_preview->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_preview->horizontalHeader()->setStretchLastSection(true);
    m_preview->verticalHeader()->setDefaultSectionSize(22);
    m_preview->setMinimumHeight(150);
    lay->addWidget(m_preview, 1);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Dataset"), QString(),
                                                          tr("JSON lines (*.jsonl *.json)"));
        if (!path.isEmpty()) emit browseChosen(path);
    });
    auto chosen = [this] {
        emit fieldsChosen(m_prompt->currentText(), m_reference->currentText());
    };
    connect(m_prompt, &QComboBox::activated, this, chosen);
    connect(m_reference, &QComboBox::activated, this, chosen);
    setDataset({}, {}, {});
}

void DatasetPicker::setDataset(const QString& path, const QString& prompt_field,
                               const QString& reference_field) {
    m_fields.clear();
    m_rows = 0;
    m_first = nullptr;
    m_head.clear();
    m_preview->clear();
    m_preview->setRowCount(0);
    m_preview->setColumnCount(0);
    const QSignalBlocker b1(m_prompt), b2(m_reference);
    m_prompt->clear();
    m_reference->clear();
    if (path.isEmpty()) {
        m_info->setText(tr("<i>No training data chosen.</i>"));
        return;
    }
    // Preview from the raw lines (so a file with a wrong field still shows what it has), then
    // the core's loader with the chosen fields: its error is the one training would give.
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        m_info->setText("<span style='color:#c62828'>" +
                        tr("%1: %2").arg(path, file.errorString()).toHtmlEscaped() + "</span>");
        return;
    }
    std::vector<nlohmann::json> rows;
    while (!file.atEnd()) {
        const QByteArray line = file.readLine().trimmed();
        if (line.isEmpty()) continue;
        ++m_rows;
        if (rows.size() >= 50) continue;
        auto j = nlohmann::json::parse(line.toStdString(), nullptr, false);
        if (j.is_object()) rows.push_back(std::move(j));
    }
    for (const auto& row : rows)
        for (auto it = row.begin(); it != row.end(); ++it)
            if (!m_fields.contains(QString::fromStdString(it.key())))
                m_fields << QString::fromStdString(it.key());
    if (!rows.empty()) m_first = rows.front();
    m_head = rows;
    m_preview->setColumnCount(int(m_fields.size()));
    m_preview->setHorizontalHeaderLabels(m_fields);
    const int shown = std::min<int>(int(rows.size()), 8);
    m_preview->setRowCount(shown);
    for (int r = 0; r < shown; ++r) {
        const auto& row = rows[size_t(r)];
        for (int c = 0; c < m_fields.size(); ++c) {
            const std::string k = m_fields[c].toStdString();
            QString text;
            if (row.contains(k))
                text = row[k].is_string() ? QString::fromStdString(row[k].get<std::string>())
                                          : QString::fromStdString(row[k].dump());
            auto* item = new QTableWidgetItem(QString(text.left(300)).replace('\n', ' '));
            item->setToolTip(text.left(2000));
            m_preview->setItem(r, c, item);
        }
    }
    m_preview->resizeColumnsToContents();
    for (int c = 0; c < m_preview->columnCount(); ++c)
        m_preview->setColumnWidth(c, std::min(m_preview->columnWidth(c), 320));
    QString status = tr("<b>%1</b> rows · fields: %2").arg(m_rows).arg(m_fields.join(", "));
    try {
        data::DatasetFields f;
        f.prompt = prompt_field.toStdString();
        f.reference = reference_field.toStdString();
        data::JsonlDataset::load(path.toStdString(), f);
    } catch (const std::exception& e) {
        status += "<br><span style='color:#c62828'>" +
                  QString::fromStdString(e.what()).toHtmlEscaped() + "</span>";
    }
    m_info->setText(status);
    m_prompt->addItems(m_fields);
    m_reference->addItem(QString());  // no reference
    m_reference->addItems(m_fields);
    m_prompt->setCurrentText(prompt_field);
    m_reference->setCurrentText(reference_field);
}

QString DatasetPicker::summary() const {
    return m_info->text();
}

}  // namespace reflab::ui
