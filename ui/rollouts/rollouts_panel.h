// The Rollouts panel: the stored rollouts of one run, at one step or over all steps, as a table
// (step, prompt, sample, reward, every component, advantage, lengths, finish reason, format,
// correctness) with the selected rollout's texts and reward breakdown beside it. The dashboard
// opens it on a run and step (click a point of a chart). Pages of at most kPageRows rows come
// from the store through the panel's own read-only connection; a page of one step is a few
// indexed rows, so it is read on the GUI thread when the user asks for it.
#pragma once
#include <QWidget>
#include <memory>

class QCheckBox;
class QLabel;
class QSpinBox;
class QTableView;
class QTextBrowser;

namespace reflab::store {
class Workspace;
}

namespace reflab::ui {

class RolloutsModel;

class RolloutsPanel : public QWidget {
    Q_OBJECT
public:
    static constexpr int kPageRows = 1000;

    explicit RolloutsPanel(QWidget* parent = nullptr);
    ~RolloutsPanel() override;

    void setWorkspace(const QString& path);  // "" closes
    // Shows the rollouts of `run` at `step` (run_name: for the title; empty: the id).
    void showStep(const QString& run, qint64 step, const QString& run_name = {});
    QString run() const { return m_run; }
    qint64 step() const;
    bool allSteps() const;
    RolloutsModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    QTextBrowser* detail() const { return m_detail; }
    QString title() const;

private:
    void reload();
    void showDetail();
    store::Workspace* workspace(QString* error);

    QString m_path, m_run, m_runName;
    std::unique_ptr<store::Workspace> m_ws;
    RolloutsModel* m_model = nullptr;
    QLabel* m_title = nullptr;
    QSpinBox* m_step = nullptr;
    QCheckBox* m_allSteps = nullptr;
    QLabel* m_count = nullptr;
    QTableView* m_table = nullptr;
    QTextBrowser* m_detail = nullptr;
};

}  // namespace reflab::ui
