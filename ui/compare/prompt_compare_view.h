// The Compare tab's same-prompt view: search a prompt by id or text, choose a step, and see each
// compared run's rollouts of that prompt at its nearest step in columns (reward, components,
// completion), with a word-level diff of two chosen completions. It asks for data through
// signals (the panel's loader reads the store off the GUI thread) and shows what comes back.
#pragma once
#include <QHash>
#include <QWidget>
#include <vector>

#include "ui/compare/compare_loader.h"
#include "ui/dashboard/metric_chart.h"

class QComboBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QListWidget;
class QSpinBox;
class QTextBrowser;

namespace reflab::ui {

class PromptCompareView : public QWidget {
    Q_OBJECT
public:
    explicit PromptCompareView(QWidget* parent = nullptr);

    void setRuns(const QStringList& runs, const QHash<QString, RunStyle>& styles);
    void showMatches(const std::vector<store::PromptMatch>& found);
    void showColumns(const QString& prompt_id, const std::vector<PromptColumn>& columns);

    QString promptId() const { return m_promptId; }
    qint64 step() const;
    void setStep(qint64 step);
    void choosePrompt(const QString& prompt_id);  // as if picked from the search results
    const std::vector<PromptColumn>& columns() const { return m_columns; }
    QLineEdit* search() const { return m_search; }
    QListWidget* matches() const { return m_matches; }
    QComboBox* diffLeft() const { return m_left; }
    QComboBox* diffRight() const { return m_right; }
    QTextBrowser* diffView() const { return m_diff; }
    QList<QTextBrowser*> columnViews() const { return m_columnViews; }

signals:
    void searchRequested(const QString& query);
    void promptRequested(const QString& prompt_id, qint64 step);

private:
    void requestPrompt();
    void updateDiff();

    QStringList m_runs;
    QHash<QString, RunStyle> m_styles;
    QString m_promptId;
    std::vector<PromptColumn> m_columns;
    QLineEdit* m_search = nullptr;
    QListWidget* m_matches = nullptr;
    QSpinBox* m_step = nullptr;
    QLabel* m_status = nullptr;
    QWidget* m_columnHost = nullptr;
    QHBoxLayout* m_columnLayout = nullptr;
    QList<QTextBrowser*> m_columnViews;
    QComboBox* m_left = nullptr;
    QComboBox* m_right = nullptr;
    QTextBrowser* m_diff = nullptr;
};

// The diff as HTML: removed words struck through in red, added words in green.
QString wordDiffHtml(const std::string& a, const std::string& b);

}  // namespace reflab::ui
