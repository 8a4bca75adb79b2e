// ReverseFlow: the Data tab's guided reverse-reasoning flow (RAVR, METHODS.md). 1. The data set
// open in the Data tab and the question/reference fields (lines lacking one are named there and
// skipped only with the user's consent); the model. 2. The reverse prompt, edited (default: the
// Setup recipe's reverse_reasoning.prompt). 3. `reflab-cli reverse --all` as a child process
// with a progress bar, rate, ETA and cancel (a cancelled run leaves no file). 4. The traces in a
// table with the filter's verdict and reason per row, accepted or rejected by hand (the kept
// ones ticked to start with); the accepted ones saved as an SFT JSONL ({"prompt",
// "completion"}). 5. `reflab-cli sft` on it with progress; the model it writes is offered to
// Setup (modelReady).
#pragma once
#include <QJsonObject>
#include <QVector>
#include <QWidget>
#include <nlohmann/json.hpp>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace reflab::ui {

class CliJob;
class DataPanel;

class ReverseFlow : public QWidget {
    Q_OBJECT
public:
    explicit ReverseFlow(DataPanel* data, QWidget* parent = nullptr);

    // The Setup recipe: its reverse_reasoning.prompt is the default prompt, its template tags
    // shape the completions (written next to the outputs and passed as --recipe).
    void setRecipe(const nlohmann::json& recipe);
    void setModelDir(const QString& dir);
    QString modelDir() const;
    void setFields(const QString& question, const QString& reference);
    // Makes the question and reference fields the Data tab's needed fields (when this page is
    // shown, a field is edited, or a generation starts).
    void applyNeededFields();
    // Where traces, SFT data and models go (a folder next to the workspace).
    void setWorkFolder(const QString& dir);
    QString workFolder() const { return m_work; }

    // Step 3. False + error when it cannot start (no data set, unusable lines not skipped, no
    // model). Answers: tracesLoaded(rows) or failed(message).
    bool generate(QString* error);
    void cancel();  // the running child, reverse or sft
    CliJob* reverseJob() const { return m_reverse; }
    CliJob* sftJob() const { return m_sft; }
    QString tracesPath() const { return m_traces; }

    // Step 4: the traces as read back; accepted() per row (the table's ticks).
    struct Trace {
        QString question, reference, reasoning, completion, reason;
        bool kept = false;
    };
    const QVector<Trace>& traces() const { return m_rows; }
    QTableWidget* table() const { return m_table; }
    void setAccepted(int row, bool on);
    QVector<bool> accepted() const;
    bool saveAccepted(const QString& path, QString* error);  // {"prompt","completion"} per line

    // Step 5. Answer: sftFinished(ok, model dir, error).
    bool startSft(const QString& data, const QString& out_dir, QString* error);
    QString sftModel() const { return m_sftOut; }

signals:
    void tracesLoaded(int rows);
    void failed(const QString& message);
    void sftFinished(bool ok, const QString& model_dir, const QString& error);
    void modelReady(const QString& model_dir);  // "Use in Setup"

private:
    void startReverse(const QString& data);
    void loadTraces();
    void setStatus(const QString& text);
    QString stamp() const;

    DataPanel* m_data;
    CliJob* m_reverse;
    CliJob* m_sft;
    nlohmann::json m_recipe;
    QString m_work, m_traces, m_sftOut, m_pendingUsable;
    QVector<Trace> m_rows;

    QLineEdit* m_question = nullptr;
    QLineEdit* m_reference = nullptr;
    QLineEdit* m_model = nullptr;
    QPlainTextEdit* m_prompt = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QSpinBox* m_batch = nullptr;
    QSpinBox* m_epochs = nullptr;
    QPushButton* m_generate = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_save = nullptr;
    QPushButton* m_train = nullptr;
    QPushButton* m_use = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_rate = nullptr;
    QLabel* m_status = nullptr;
    QTableWidget* m_table = nullptr;
};

}  // namespace reflab::ui
