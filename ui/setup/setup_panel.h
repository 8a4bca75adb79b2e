// The Setup panel: model and data pickers, template editor with a live preview, the reward
// recipe editor, algorithm and generation settings, presets, load/save, "Try rewards" and
// Start. The recipe itself lives in RecipeEditor; this panel lays its sections out and keeps
// the pickers and preview in step with it.
#pragma once
#include <QWidget>
#include <nlohmann/json.hpp>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace reflab::ui {

class DatasetPicker;
class ModelPicker;
class RecipeEditor;
class TemplatePreview;
class TryRewards;

class SetupPanel : public QWidget {
    Q_OBJECT
public:
    explicit SetupPanel(QWidget* parent = nullptr);

    RecipeEditor* editor() const { return m_editor; }
    // Loads a recipe (a preset, a file, a run's stored recipe for fork); false + error if invalid.
    bool loadRecipeJson(const nlohmann::json& recipe, const QString& run_name, QString* error);
    void setStartEnabled(bool enabled, const QString& why_not);
    // A fork: Start begins `train --fork run --from-step step` with the edited recipe; a banner
    // says so. Loading another recipe (preset, file) or "Start afresh" clears it.
    void setForkOrigin(const QString& run, qint64 step, const QString& run_name);
    void clearForkOrigin();
    QString forkRun() const { return m_forkRun; }
    qint64 forkStep() const { return m_forkStep; }
    QString runName() const;
    // Data-parallel processes the run trains with on this machine (1: one process).
    int processes() const;
    // Resolves a recipe path the way the CLI run from the source tree does.
    static QString resolvePath(const QString& path);

signals:
    // The user pressed Start with a valid recipe.
    void startRequested(const nlohmann::json& recipe, const QString& run_name);

private:
    QWidget* buildModelDataPage();
    QWidget* buildTemplatePage();
    QWidget* buildRewardsPage();
    QWidget* buildTrainingPage();
    void refreshViews();
    void hideDuplicateDataFields();
    void onValidated(const QString& error);
    void loadPresetAt(int index);
    void loadFromFile();
    void saveToFile();

    RecipeEditor* m_editor = nullptr;
    QTabWidget* m_tabs = nullptr;
    ModelPicker* m_model = nullptr;
    DatasetPicker* m_dataset = nullptr;
    TemplatePreview* m_preview = nullptr;
    TryRewards* m_try = nullptr;
    QComboBox* m_presets = nullptr;
    QLineEdit* m_name = nullptr;
    QSpinBox* m_processes = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_start = nullptr;
    bool m_startAllowed = true;
    QString m_startWhyNot;
    QString m_modelKey, m_dataKey;
    QString m_forkRun;
    qint64 m_forkStep = -1;
    QWidget* m_forkBanner = nullptr;
    QLabel* m_forkText = nullptr;
};

}  // namespace reflab::ui
