// ModelPicker (see model_picker.h).
#include "ui/setup/model_picker.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <nlohmann/json.hpp>

#if __has_include("core/model/model_config.h")
#include "core/model/model_config.h"
#define REFLAB_UI_HAS_MODEL 1
#endif

namespace reflab::ui {

QString formatCount(qint64 n) {
    if (n >= 1'000'000'000) return QString::number(n / 1e9, 'f', 2) + "B";
    if (n >= 1'000'000) return QString::number(n / 1e6, 'f', 1) + "M";
    if (n >= 1'000) return QString::number(n / 1e3, 'f', 1) + "K";
    return QString::number(n);
}

bool ModelPicker::available() {
#ifdef REFLAB_UI_HAS_MODEL
    return true;
#else
    return false;
#endif
}

ModelPicker::ModelPicker(QWidget* parent) : QWidget(parent) {
    auto* lay = new QHBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    m_info = new QLabel(this);
    m_info->setObjectName("modelInfo");
    m_info->setTextFormat(Qt::RichText);
    m_info->setWordWrap(true);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* browse = new QPushButton(tr("Choose model folder..."), this);
    browse->setObjectName("browseModel");
    lay->addWidget(m_info, 1);
    lay->addWidget(browse, 0, Qt::AlignTop);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(
            this, tr("Hugging Face model folder (config.json, *.safetensors, tokenizer.json)"));
        if (!dir.isEmpty()) emit browseChosen(dir);
    });
    setModelDir({});
}

void ModelPicker::setModelDir(const QString& dir) {
    if (dir.isEmpty()) {
        m_info->setText(tr("<i>No model chosen.</i>"));
        return;
    }
#ifdef REFLAB_UI_HAS_MODEL
    try {
        const model::ModelConfig c = model::loadModelConfig(dir.toStdString());
        bool chat = false;
        QFile tc(QDir(dir).filePath("tokenizer_config.json"));
        if (tc.open(QIODevice::ReadOnly)) {
            const auto j = nlohmann::json::parse(tc.readAll().toStdString(), nullptr, false);
            chat = !j.is_discarded() && j.is_object() && j.contains("chat_template");
        }
        m_info->setText(
            tr("<table cellspacing=2>"
               "<tr><td><b>Architecture</b></td><td>%1</td><td width=24></td>"
               "<td><b>Parameters</b></td><td>%2</td></tr>"
               "<tr><td><b>Dtype</b></td><td>%3</td><td></td><td><b>Vocabulary</b></td><td>%4</"
               "td></tr>"
               "<tr><td><b>Layers</b></td><td>%5 × %6</td><td></td><td><b>Heads "
               "(KV)</b></td><td>%7 (%8)</td></tr>"
               "<tr><td><b>Chat "
               "template</b></td><td>%9</td><td></td><td><b>Context</b></td><td>%10</td></tr>"
               "</table>")
                .arg(QString::fromStdString(c.architecture), formatCount(c.parameterCount()),
                     QString::fromStdString(c.torch_dtype), QString::number(c.vocab_size))
                .arg(c.num_hidden_layers)
                .arg(c.hidden_size)
                .arg(c.num_attention_heads)
                .arg(c.num_key_value_heads)
                .arg(chat ? tr("yes") : tr("no (plain prompts)"))
                .arg(c.max_position_embeddings));
    } catch (const std::exception& e) {
        m_info->setText("<span style='color:#c62828'>" +
                        QString::fromStdString(e.what()).toHtmlEscaped() + "</span>");
    }
#else
    m_info->setText(tr("<i>%1</i><br>Model details need core/model, which this build lacks.")
                        .arg(dir.toHtmlEscaped()));
#endif
}

QString ModelPicker::summary() const {
    return m_info->text();
}

}  // namespace reflab::ui
