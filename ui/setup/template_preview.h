// TemplatePreview: one prompt of the dataset rendered exactly as training will render it (the
// recipe's system and user messages through the model's chat template, generation prompt
// added) and its token count under the model's tokenizer. Updated live as the template changes.
#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>

class QLabel;
class QPlainTextEdit;

namespace reflab::ui {

class TemplatePreview : public QWidget {
    Q_OBJECT
public:
    explicit TemplatePreview(QWidget* parent = nullptr);
    // template_section: the recipe's "template"; row: a dataset row; prompt_field: its key.
    void update(const nlohmann::json& template_section, const nlohmann::json& row,
                const QString& prompt_field, const QString& model_dir);
    QString renderedText() const;
    QString countText() const;

private:
    QPlainTextEdit* m_text = nullptr;
    QLabel* m_count = nullptr;
    QString m_tokenizerDir;             // the directory m_tokenizer was loaded from
    std::shared_ptr<void> m_tokenizer;  // text::Tokenizer when core/text is built in
};

}  // namespace reflab::ui
