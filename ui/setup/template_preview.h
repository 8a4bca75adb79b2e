// TemplatePreview: one prompt of the dataset rendered exactly as training will render it (the
// recipe's system and user messages through the model's chat template, generation prompt
// added) and its token count under the model's tokenizer. Updated live as the template changes.
// A model's tokenizer is loaded on a worker thread (a large tokenizer.json takes a second): the
// count reads "loading the tokenizer…" meanwhile and is filled in when it arrives.
#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>

#include "ui/common/worker_thread.h"

class QLabel;
class QPlainTextEdit;

namespace reflab::ui {

class TemplatePreview : public QWidget {
    Q_OBJECT
public:
    explicit TemplatePreview(QWidget* parent = nullptr);
    ~TemplatePreview() override;
    // template_section: the recipe's "template"; row: a dataset row; prompt_field: its key.
    void update(const nlohmann::json& template_section, const nlohmann::json& row,
                const QString& prompt_field, const QString& model_dir);
    QString renderedText() const;
    QString countText() const;

private:
    QPlainTextEdit* m_text = nullptr;
    QLabel* m_count = nullptr;
    // Loads the tokenizer of `model_dir` on the worker, then renders the last update again.
    void loadTokenizer(const QString& model_dir, const QString& path);

    QString m_tokenizerDir;             // the directory m_tokenizer was loaded from
    std::shared_ptr<void> m_tokenizer;  // text::Tokenizer when core/text is built in
    QString m_loadingDir;               // the directory whose tokenizer the worker is loading
    struct Last {
        nlohmann::json template_section, row;
        QString prompt_field, model_dir;
    } m_last;  // the arguments of the last update
    WorkerThread m_worker{QStringLiteral("TemplatePreview")};
};

}  // namespace reflab::ui
