// The Setup panel (see setup_panel.h).
#include "ui/setup/setup_panel.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QThread>
#include <QVBoxLayout>

#include "ui/setup/dataset_picker.h"
#include "ui/setup/json_form.h"
#include "ui/setup/model_picker.h"
#include "ui/setup/recipe_editor.h"
#include "ui/setup/template_preview.h"
#include "ui/setup/try_rewards.h"

namespace reflab::ui {

namespace {

QWidget* scrolled(QWidget* content) {
    auto* s = new QScrollArea;
    s->setWidgetResizable(true);
    s->setFrameShape(QFrame::NoFrame);
    s->setWidget(content);
    return s;
}

QGroupBox* group(const QString& title, QWidget* content, QWidget* extra = nullptr) {
    auto* box = new QGroupBox(title);
    auto* lay = new QVBoxLayout(box);
    lay->addWidget(content);
    if (extra) lay->addWidget(extra, 1);
    return box;
}

QString str(const nlohmann::json& j) {
    return j.is_string() ? QString::fromStdString(j.get<std::string>()) : QString();
}

}  // namespace

QString SetupPanel::resolvePath(const QString& path) {
    if (path.isEmpty() || QFileInfo(path).isAbsolute() || QFileInfo::exists(path)) return path;
    const QString fromSource = QDir(REFLAB_SOURCE_DIR).filePath(path);
    return QFileInfo::exists(fromSource) ? fromSource : path;
}

SetupPanel::SetupPanel(QWidget* parent) : QWidget(parent) {
    setObjectName("setupPanel");
    m_editor = new RecipeEditor(this);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(6, 6, 6, 6);

    auto* bar = new QHBoxLayout;
    m_presets = new QComboBox(this);
    m_presets->setObjectName("presetCombo");
    m_presets->addItem(tr("Presets..."));
    m_presets->addItems(RecipeEditor::presetNames());
    auto* load = new QPushButton(tr("&Load recipe..."), this);
    auto* save = new QPushButton(tr("&Save recipe..."), this);
    m_name = new QLineEdit(this);
    m_name->setObjectName("runName");
    m_name->setPlaceholderText(tr("run name (default: the recipe's)"));
    m_name->setMaximumWidth(240);
    // One machine's data-parallel processes (reflab-cli train as N ranks, scripts/launch.sh's
    // way); the run is still one run, written by rank 0.
    m_processes = new QSpinBox(this);
    m_processes->setObjectName("processes");
    m_processes->setRange(1, std::max(1, QThread::idealThreadCount()));
    m_processes->setPrefix(tr("processes: "));
    m_processes->setToolTip(
        tr("Train data-parallel with this many processes on this machine: the step's prompt "
           "groups are split between them, the run is the same as with one process."));
    m_status = new QLabel(this);
    m_status->setObjectName("recipeStatus");
    m_status->setWordWrap(true);
    m_start = new QPushButton(tr("Start run"), this);
    m_start->setObjectName("startButton");
    m_start->setDefault(true);
    m_start->setStyleSheet("QPushButton { font-weight: bold; padding: 4px 16px; }");
    bar->addWidget(m_presets);
    bar->addWidget(load);
    bar->addWidget(save);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("Run name"), this));
    bar->addWidget(m_name);
    bar->addWidget(m_processes);
    bar->addWidget(m_status, 1);
    bar->addWidget(m_start);
    lay->addLayout(bar);

    m_forkBanner = new QFrame(this);
    m_forkBanner->setObjectName("forkBanner");
    m_forkBanner->setStyleSheet("#forkBanner { background: #e8f0fe; border-radius: 3px; }");
    auto* forkLay = new QHBoxLayout(m_forkBanner);
    forkLay->setContentsMargins(8, 4, 8, 4);
    m_forkText = new QLabel(m_forkBanner);
    m_forkText->setObjectName("forkText");
    auto* afresh = new QPushButton(tr("Start afresh instead"), m_forkBanner);
    afresh->setObjectName("forkClear");
    forkLay->addWidget(m_forkText, 1);
    forkLay->addWidget(afresh);
    m_forkBanner->hide();
    lay->addWidget(m_forkBanner);
    connect(afresh, &QPushButton::clicked, this, &SetupPanel::clearForkOrigin);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName("setupTabs");
    m_tabs->addTab(buildModelDataPage(), tr("Model && data"));
    m_tabs->addTab(buildTemplatePage(), tr("Template"));
    m_tabs->addTab(buildRewardsPage(), tr("Rewards"));
    m_tabs->addTab(buildTrainingPage(), tr("Algorithm && generation"));
    m_try = new TryRewards(this);
    m_tabs->addTab(m_try, tr("Try rewards"));
    lay->addWidget(m_tabs, 1);

    connect(m_presets, qOverload<int>(&QComboBox::activated), this, &SetupPanel::loadPresetAt);
    connect(load, &QPushButton::clicked, this, &SetupPanel::loadFromFile);
    connect(save, &QPushButton::clicked, this, &SetupPanel::saveToFile);
    connect(m_editor, &RecipeEditor::validated, this, &SetupPanel::onValidated);
    connect(m_editor, &RecipeEditor::recipeReplaced, this, [this] {
        m_modelKey.clear();
        m_dataKey.clear();
        hideDuplicateDataFields();
    });
    connect(m_start, &QPushButton::clicked, this, [this] {
        if (!m_editor->validate().isEmpty()) return;
        emit startRequested(m_editor->recipeJson(), runName());
    });
    connect(m_try, &TryRewards::startRequested, this, [this] {
        if (!m_editor->validate().isEmpty()) return;
        nlohmann::json recipe = m_editor->recipeJson();
        recipe["model"]["path"] = resolvePath(str(recipe["model"]["path"])).toStdString();
        m_try->start(recipe, m_dataset->firstRows());  // it takes as many as it is asked for
    });
    connect(m_model, &ModelPicker::browseChosen, this, [this](const QString& dir) {
        m_editor->form("model")->setField("path", dir.toStdString());
        m_editor->validate();
    });
    connect(m_dataset, &DatasetPicker::browseChosen, this, [this](const QString& path) {
        m_editor->form("data")->setField("train", path.toStdString());
        m_editor->validate();
    });
    connect(m_dataset, &DatasetPicker::fieldsChosen, this,
            [this](const QString& p, const QString& r) {
                m_editor->form("data")->setField("prompt_field", p.toStdString());
                m_editor->form("data")->setField("reference_field", r.toStdString());
                m_editor->validate();
            });

    // Start from the first preset (the demo recipe) when there is one.
    if (m_presets->count() > 1) {
        const int nover = m_presets->findText("nover");
        loadPresetAt(nover > 0 ? nover : 1);
    } else {
        refreshViews();
    }
}

QWidget* SetupPanel::buildModelDataPage() {
    auto* page = new QWidget;
    auto* lay = new QVBoxLayout(page);
    m_model = new ModelPicker(page);
    lay->addWidget(group(tr("Model"), m_editor->sectionWidget("model"), m_model));
    m_dataset = new DatasetPicker(page);
    lay->addWidget(group(tr("Data"), m_editor->sectionWidget("data"), m_dataset), 1);
    hideDuplicateDataFields();
    return page;
}

void SetupPanel::hideDuplicateDataFields() {
    // The dataset picker's field combos (listing the file's fields) set these two; their text
    // boxes in the data form would be a second, confusing control for the same thing.
    JsonForm* form = m_editor->form("data");
    auto* layout = form ? qobject_cast<QFormLayout*>(form->layout()) : nullptr;
    if (!layout) return;
    for (const char* key : {"prompt_field", "reference_field"})
        if (QWidget* w = form->fieldWidget(key))  // the editor sits in a cell with its error
            layout->setRowVisible(w->parentWidget() == form ? w : w->parentWidget(), false);
}

QWidget* SetupPanel::buildTemplatePage() {
    auto* split = new QSplitter(Qt::Horizontal);
    split->addWidget(group(tr("Prompt template ({question} is the dataset's prompt)"),
                           m_editor->sectionWidget("template")));
    m_preview = new TemplatePreview(split);
    split->addWidget(group(tr("Rendered prompt (first dataset row)"), m_preview));
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    return split;
}

QWidget* SetupPanel::buildRewardsPage() {
    auto* page = new QWidget;
    auto* lay = new QVBoxLayout(page);
    lay->addWidget(group(tr("Reward recipe"), m_editor->sectionWidget("rewards")), 3);
    lay->addWidget(group(tr("Reverse reasoning (reference-guided traces)"),
                         m_editor->sectionWidget("reverse_reasoning")),
                   1);
    return page;
}

QWidget* SetupPanel::buildTrainingPage() {
    auto* page = new QWidget;
    auto* lay = new QHBoxLayout(page);
    auto* left = new QVBoxLayout;
    left->addWidget(group(tr("Generation"), m_editor->sectionWidget("generation")));
    left->addWidget(group(tr("Evaluation"), m_editor->sectionWidget("eval")));
    left->addStretch(1);
    lay->addLayout(left, 1);
    lay->addWidget(group(tr("Algorithm"), m_editor->sectionWidget("algorithm")), 1);
    return scrolled(page);
}

void SetupPanel::setForkOrigin(const QString& run, qint64 step, const QString& run_name) {
    m_forkRun = run;
    m_forkStep = step;
    m_forkText->setText(tr("Fork of <b>%1</b> from its checkpoint at step <b>%2</b>: edit the "
                           "recipe, then Start fork.")
                            .arg(run_name.toHtmlEscaped())
                            .arg(step));
    m_forkBanner->show();
    m_start->setText(tr("Start fork"));
    onValidated(m_editor->lastError());  // the Start button's tooltip names the fork
}

void SetupPanel::clearForkOrigin() {
    m_forkRun.clear();
    m_forkStep = -1;
    m_forkBanner->hide();
    m_start->setText(tr("Start run"));
    onValidated(m_editor->lastError());
}

bool SetupPanel::loadRecipeJson(const nlohmann::json& recipe, const QString& run_name,
                                QString* error) {
    try {
        m_editor->setRecipe(recipe);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    m_name->setText(run_name);
    m_editor->validate();
    return true;
}

QString SetupPanel::runName() const {
    return m_name->text().trimmed();
}

int SetupPanel::processes() const {
    return m_processes->value();
}

void SetupPanel::setStartEnabled(bool enabled, const QString& why_not) {
    m_startAllowed = enabled;
    m_startWhyNot = why_not;
    onValidated(m_editor->lastError());
}

void SetupPanel::onValidated(const QString& error) {
    if (error.isEmpty()) {
        QString text = tr("<span style='color:#2e7d32'>&#10003; recipe valid</span>");
        for (const QString& w : m_editor->lastWarnings())
            text += "<br><span style='color:#b26a00'>&#9888; " + w.toHtmlEscaped() + "</span>";
        m_status->setText(text);
    } else {
        m_status->setText("<span style='color:#c62828'>&#10007; " + error.toHtmlEscaped() +
                          "</span>");
    }
    m_start->setEnabled(error.isEmpty() && m_startAllowed);
    m_start->setToolTip(!m_startAllowed    ? m_startWhyNot
                        : !error.isEmpty() ? tr("Fix the recipe first: %1").arg(error)
                        : m_forkRun.isEmpty()
                            ? tr("Start `reflab-cli train` with this recipe")
                            : tr("Start `reflab-cli train --fork %1 --from-step %2` with this "
                                 "recipe")
                                  .arg(m_forkRun)
                                  .arg(m_forkStep));
    refreshViews();
}

void SetupPanel::refreshViews() {
    const nlohmann::json recipe = m_editor->recipeJson();
    const QString modelDir = resolvePath(str(recipe["model"]["path"]));
    if (modelDir != m_modelKey) {
        m_modelKey = modelDir;
        m_model->setModelDir(modelDir);
    }
    const auto& data = recipe["data"];
    const QString train = resolvePath(str(data["train"]));
    const QString key =
        train + "|" + str(data["prompt_field"]) + "|" + str(data["reference_field"]);
    if (key != m_dataKey) {
        m_dataKey = key;
        m_dataset->setDataset(train, str(data["prompt_field"]), str(data["reference_field"]));
    }
    m_preview->update(recipe["template"], m_dataset->firstRow(), str(data["prompt_field"]),
                      modelDir);
}

void SetupPanel::loadPresetAt(int index) {
    if (index <= 0) return;
    QString error;
    const QString name = m_presets->itemText(index);
    if (!m_editor->loadPreset(name, &error))
        QMessageBox::warning(this, tr("Preset"), error);
    else
        clearForkOrigin();  // another recipe: no longer the fork's
    m_presets->setCurrentIndex(0);
    m_editor->validate();
}

void SetupPanel::loadFromFile() {
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Load recipe"), QString(), tr("Recipe (*.json)"));
    if (path.isEmpty()) return;
    QString error;
    if (!m_editor->loadFile(path, &error))
        QMessageBox::warning(this, tr("Load recipe"), error);
    else
        clearForkOrigin();
    m_editor->validate();
}

void SetupPanel::saveToFile() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save recipe"), "recipe.json", tr("Recipe (*.json)"));
    if (path.isEmpty()) return;
    QString error;
    if (!m_editor->saveFile(path, &error)) QMessageBox::warning(this, tr("Save recipe"), error);
}

}  // namespace reflab::ui
