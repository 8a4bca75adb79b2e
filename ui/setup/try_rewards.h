// TryRewards: before spending a run on a recipe, sample a few completions of the first prompts
// with the current model (`reflab-cli generate --json`) and score them with the recipe
// (`reflab-cli reward`), then show every component and intermediate (P_r, rank, R_r, R_e, ...)
// per completion. Both steps are child processes: the GUI stays responsive and can cancel.
#pragma once
#include <QWidget>
#include <functional>
#include <nlohmann/json.hpp>

class QLabel;
class QProcess;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace reflab::ui {

class TryRewards : public QWidget {
    Q_OBJECT
public:
    explicit TryRewards(QWidget* parent = nullptr);
    ~TryRewards() override;  // kills a child still running, before the widgets it reports to go
    // recipe: the editor's recipe; rows: the dataset rows to try (prompt and reference fields
    // named by the recipe's data section).
    void start(const nlohmann::json& recipe, const std::vector<nlohmann::json>& rows);
    void cancel();
    bool running() const;
    // The `reflab-cli reward` input rows of one prompt's `reflab-cli generate --json` output:
    // {prompt, completion, reference, group, truncated}, the completion being the text training
    // scores ("completion": stop string / EOS cut, train::completionText), never the raw text.
    static nlohmann::json rewardRows(const nlohmann::json& generated, const std::string& reference,
                                     const std::string& group);
    // Fills the table from `reflab-cli reward` output lines (also used by tests).
    void showScores(const QStringList& completions, const QByteArray& reward_jsonl);
    QTableWidget* table() const { return m_table; }

signals:
    void startRequested();  // the panel answers with start(recipe, rows)

private:
    void generateNext();
    void score();
    void fail(const QString& message);
    // m_process for `reflab-cli <command>`: on exit, an error goes to fail() (its stderr, else the
    // exit code); success hands stdout to on_success. The caller starts it.
    void newCliProcess(const QString& command, std::function<void(const QByteArray&)> on_success);

    QSpinBox* m_prompts = nullptr;
    QSpinBox* m_samples = nullptr;
    QPushButton* m_run = nullptr;
    QLabel* m_status = nullptr;
    QTableWidget* m_table = nullptr;
    QProcess* m_process = nullptr;
    nlohmann::json m_recipe;
    std::vector<nlohmann::json> m_rows;
    size_t m_next = 0;
    nlohmann::json m_inputs = nlohmann::json::array();  // reward input rows so far
    QStringList m_completions;
    QString m_recipePath;
};

}  // namespace reflab::ui
