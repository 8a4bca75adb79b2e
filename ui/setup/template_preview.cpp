// TemplatePreview (see template_preview.h).
#include "ui/setup/template_preview.h"

#include <QDir>
#include <QFileInfo>
#include <QFontDatabase>
#include <QLabel>
#include <QMetaObject>
#include <QPlainTextEdit>
#include <QVBoxLayout>

#if __has_include("core/text/chat_template.h") && __has_include("core/text/tokenizer.h")
#include "core/text/chat_template.h"
#include "core/text/tokenizer.h"
#define REFLAB_UI_HAS_TEXT 1
#endif

namespace reflab::ui {

TemplatePreview::TemplatePreview(QWidget* parent) : QWidget(parent) {
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    m_count = new QLabel(this);
    m_count->setObjectName("tokenCount");
    m_text = new QPlainTextEdit(this);
    m_text->setObjectName("renderedPrompt");
    m_text->setReadOnly(true);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    lay->addWidget(m_count);
    lay->addWidget(m_text, 1);
}

TemplatePreview::~TemplatePreview() {
    m_worker.stop();  // a load under way finishes first; its answer is dropped with `this`
}

void TemplatePreview::loadTokenizer(const QString& model_dir, const QString& path) {
#ifdef REFLAB_UI_HAS_TEXT
    if (m_loadingDir == model_dir) return;  // already asked
    m_loadingDir = model_dir;
    QMetaObject::invokeMethod(
        m_worker.worker(),
        [this, model_dir, path] {
            std::shared_ptr<void> tok;
            QString error;
            try {
                tok = std::make_shared<text::Tokenizer>(
                    text::Tokenizer::fromFile(path.toStdString()));
            } catch (const std::exception& e) {
                error = QString::fromStdString(e.what());
            }
            QMetaObject::invokeMethod(
                this,
                [this, model_dir, tok, error] {
                    if (m_loadingDir != model_dir) return;  // another model was chosen since
                    m_loadingDir.clear();
                    if (!tok) {
                        m_count->setText("<span style='color:#c62828'>" + error.toHtmlEscaped() +
                                         "</span>");
                        return;
                    }
                    m_tokenizer = tok;
                    m_tokenizerDir = model_dir;
                    update(m_last.template_section, m_last.row, m_last.prompt_field,
                           m_last.model_dir);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
#else
    Q_UNUSED(model_dir);
    Q_UNUSED(path);
#endif
}

void TemplatePreview::update(const nlohmann::json& t, const nlohmann::json& row,
                             const QString& prompt_field, const QString& model_dir) {
    m_last = {t, row, prompt_field, model_dir};
    const std::string key = prompt_field.toStdString();
    std::string question = "What is 17 + 25?";  // shown until a dataset is chosen
    if (row.is_object() && row.contains(key))
        question = row[key].is_string() ? row[key].get<std::string>() : row[key].dump();
    std::string user = t.value("user", std::string("{question}"));
    for (size_t at = user.find("{question}"); at != std::string::npos;
         at = user.find("{question}", at + question.size()))
        user.replace(at, 10, question);
    const std::string system = t.value("system", std::string());
#ifdef REFLAB_UI_HAS_TEXT
    try {
        const bool hasModel = !model_dir.isEmpty() && QFileInfo(model_dir).isDir();
        const text::ChatTemplate tmpl =
            hasModel ? text::ChatTemplate::fromModelDir(model_dir.toStdString())
                     : text::ChatTemplate::plain();
        std::vector<text::ChatMessage> messages;
        if (!system.empty()) messages.push_back({"system", system});
        messages.push_back({"user", user});
        const std::string rendered = tmpl.render(messages, /*add_generation_prompt=*/true);
        m_text->setPlainText(QString::fromStdString(rendered));
        const QString tokPath = QDir(model_dir).filePath("tokenizer.json");
        if (hasModel && QFileInfo::exists(tokPath)) {
            if (m_tokenizerDir != model_dir || !m_tokenizer) {
                m_count->setText(
                    tr("<i>Loading the tokenizer of %1…</i>").arg(model_dir.toHtmlEscaped()));
                loadTokenizer(model_dir, tokPath);
                return;
            }
            const auto* tok = static_cast<const text::Tokenizer*>(m_tokenizer.get());
            const size_t n = tok->encode(rendered).size();
            m_count->setText(
                tr("<b>%1 tokens</b> · chat template <b>%2</b> of %3")
                    .arg(n)
                    .arg(QString::fromStdString(tmpl.name()), model_dir.toHtmlEscaped()));
        } else {
            m_count->setText(tr("Token count: choose a model with a tokenizer.json"));
        }
    } catch (const std::exception& e) {
        m_count->setText("<span style='color:#c62828'>" +
                         QString::fromStdString(e.what()).toHtmlEscaped() + "</span>");
        m_text->setPlainText(
            QString::fromStdString((system.empty() ? "" : system + "\n\n") + user));
    }
#else
    Q_UNUSED(model_dir);
    m_text->setPlainText(QString::fromStdString((system.empty() ? "" : system + "\n\n") + user));
    m_count->setText(tr("Token count and chat markup need core/text, which this build lacks."));
#endif
}

QString TemplatePreview::renderedText() const {
    return m_text->toPlainText();
}
QString TemplatePreview::countText() const {
    return m_count->text();
}

}  // namespace reflab::ui
