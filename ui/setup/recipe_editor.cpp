// RecipeEditor (see recipe_editor.h).
#include "ui/setup/recipe_editor.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "core/reward/recipe.h"
#include "ui/setup/json_form.h"

namespace reflab::ui {

namespace {

const char* kSource = "recipe";

void clearLayout(QWidget* w) {
    QLayout* lay = w->layout();
    while (QLayoutItem* item = lay->takeAt(0)) {
        delete item->widget();
        delete item;
    }
}

}  // namespace

const QStringList& RecipeEditor::sections() {
    static const QStringList kSections = {"model",   "data",      "template",          "generation",
                                          "rewards", "algorithm", "reverse_reasoning", "eval"};
    return kSections;
}

QStringList RecipeEditor::componentTypes() {
    return {"format", "nover", "rgr", "rlpr", "rubric", "exact_match"};
}

RecipeEditor::RecipeEditor(QObject* parent) : QObject(parent) {
    for (const QString& s : sections()) {
        auto* slot = new QWidget;
        slot->setObjectName("section:" + s);
        auto* lay = new QVBoxLayout(slot);
        lay->setContentsMargins(0, 0, 0, 0);
        m_slots.insert(s, slot);
    }
    // The rewards slot: component list with add/remove/reorder on the left, the selected
    // component's parameters on the right.
    QWidget* rewards = m_slots.value("rewards");
    auto* row = new QHBoxLayout;
    auto* left = new QVBoxLayout;
    m_componentList = new QListWidget(rewards);
    m_componentList->setObjectName("componentList");
    m_componentList->setMaximumWidth(200);
    auto* add = new QToolButton(rewards);
    add->setText(tr("Add"));
    add->setPopupMode(QToolButton::InstantPopup);
    auto* addMenu = new QMenu(add);
    for (const QString& t : componentTypes())
        addMenu->addAction(t, this, [this, t] { addComponent(t); });
    add->setMenu(addMenu);
    auto* remove = new QPushButton(tr("Remove"), rewards);
    auto* up = new QPushButton(tr("Up"), rewards);
    auto* down = new QPushButton(tr("Down"), rewards);
    auto* buttons = new QHBoxLayout;
    for (QWidget* b : std::initializer_list<QWidget*>{add, remove, up, down}) buttons->addWidget(b);
    left->addWidget(new QLabel(tr("<b>Components</b> (the total is their weighted sum)"), rewards));
    left->addWidget(m_componentList, 1);
    left->addLayout(buttons);
    m_componentStack = new QStackedWidget(rewards);
    auto* scroll = new QScrollArea(rewards);
    scroll->setWidgetResizable(true);
    scroll->setWidget(m_componentStack);
    row->addLayout(left);
    row->addWidget(scroll, 1);
    static_cast<QVBoxLayout*>(rewards->layout())->addLayout(row);
    connect(m_componentList, &QListWidget::currentRowChanged, m_componentStack,
            &QStackedWidget::setCurrentIndex);
    connect(remove, &QPushButton::clicked, this,
            [this] { removeComponent(m_componentList->currentRow()); });
    connect(up, &QPushButton::clicked, this,
            [this] { moveComponent(m_componentList->currentRow(), -1); });
    connect(down, &QPushButton::clicked, this,
            [this] { moveComponent(m_componentList->currentRow(), +1); });

    m_validateTimer = new QTimer(this);
    m_validateTimer->setSingleShot(true);
    m_validateTimer->setInterval(250);
    connect(m_validateTimer, &QTimer::timeout, this, &RecipeEditor::validate);
    connect(this, &RecipeEditor::edited, this, &RecipeEditor::scheduleValidate);

    setRecipe({{"rewards", {{{"type", "format"}}}}});  // an empty recipe until one is loaded
}

nlohmann::json RecipeEditor::componentDefaults(const QString& type) {
    nlohmann::json c = {{"type", type.toStdString()}};
    if (type == "rubric")
        c["criteria"] = {{{"name", "quality"},
                          {"kind", "judge"},
                          {"description", "answers the task fully and correctly"}}};
    try {
        return reward::parseRecipe({{"rewards", {c}}}, kSource).resolved["rewards"][0];
    } catch (const std::exception&) {
        return nullptr;
    }
}

JsonForm* RecipeEditor::componentForm(int index) const {
    return qobject_cast<JsonForm*>(m_componentStack->widget(index));
}

int RecipeEditor::componentCount() const {
    return m_componentStack->count();
}

void RecipeEditor::setRecipe(const nlohmann::json& recipe) {
    const nlohmann::json resolved = reward::parseRecipe(recipe, kSource).resolved;
    m_top = nlohmann::json::object();
    for (auto it = resolved.begin(); it != resolved.end(); ++it)
        if (!sections().contains(QString::fromStdString(it.key()))) m_top[it.key()] = it.value();
    for (const QString& s : sections()) {
        if (s == "rewards") continue;
        QWidget* slot = m_slots.value(s);
        clearLayout(slot);
        auto* form =
            new JsonForm(resolved.value(s.toStdString(), nlohmann::json::object()), s, slot);
        auto* slotLayout = static_cast<QVBoxLayout*>(slot->layout());
        slotLayout->addWidget(form);
        slotLayout->addStretch(1);  // rows keep their height; the space goes below the form
        m_forms.insert(s, form);
        connect(form, &JsonForm::edited, this, &RecipeEditor::edited);
    }
    rebuildComponents(resolved.value("rewards", nlohmann::json::array()));
    m_error.clear();
    emit recipeReplaced();
    emit validated({});
}

void RecipeEditor::rebuildComponents(const nlohmann::json& rewards) {
    const int current = std::max(0, m_componentList->currentRow());
    while (m_componentStack->count() > 0) {
        QWidget* w = m_componentStack->widget(0);
        m_componentStack->removeWidget(w);
        delete w;
    }
    m_componentList->clear();
    for (size_t i = 0; i < rewards.size(); ++i) {
        const nlohmann::json& c = rewards[i];
        auto* form = new JsonForm(c, QString("rewards[%1]").arg(i), m_componentStack);
        m_componentStack->addWidget(form);
        const QString name = QString::fromStdString(c.value("name", c.value("type", "?")));
        const QString type = QString::fromStdString(c.value("type", "?"));
        m_componentList->addItem(name == type ? name : QString("%1 (%2)").arg(name, type));
        connect(form, &JsonForm::edited, this, &RecipeEditor::edited);
    }
    m_componentList->setCurrentRow(std::min(current, m_componentList->count() - 1));
}

nlohmann::json RecipeEditor::recipeJson() const {
    nlohmann::json out = m_top;
    for (const QString& s : sections()) {
        if (s == "rewards") continue;
        out[s.toStdString()] = m_forms.value(s)->value();
    }
    nlohmann::json rewards = nlohmann::json::array();
    for (int i = 0; i < m_componentStack->count(); ++i)
        rewards.push_back(componentForm(i)->value());
    out["rewards"] = rewards;
    return out;
}

QString RecipeEditor::validate() {
    m_validateTimer->stop();
    for (JsonForm* f : std::as_const(m_forms)) f->clearErrors();
    for (int i = 0; i < componentCount(); ++i) componentForm(i)->clearErrors();
    m_error.clear();
    m_warnings.clear();
    try {
        for (const auto& w : reward::parseRecipe(recipeJson(), kSource).warnings)
            m_warnings << QString::fromStdString(w);
    } catch (const std::exception& e) {
        // "recipe: rewards[1].top_k: expected integer, got string": the path names the field.
        QString msg = QString::fromStdString(e.what());
        const QString prefix = QString(kSource) + ": ";
        if (msg.startsWith(prefix)) msg = msg.mid(prefix.size());
        m_error = msg;
        const QString path = msg.section(": ", 0, 0);
        const QString what = msg.section(": ", 1);
        bool marked = false;
        for (JsonForm* f : std::as_const(m_forms)) marked = marked || f->markError(path, what);
        for (int i = 0; i < componentCount() && !marked; ++i)
            marked = componentForm(i)->markError(path, what);
        if (path.startsWith("rewards[")) {
            const int index = path.mid(8).section(']', 0, 0).toInt();
            if (index >= 0 && index < componentCount()) m_componentList->setCurrentRow(index);
        }
    }
    emit validated(m_error);
    return m_error;
}

void RecipeEditor::scheduleValidate() {
    m_validateTimer->start();
}

bool RecipeEditor::loadFile(const QString& path, QString* error) {
    try {
        setRecipe(reward::loadRecipeFile(path.toStdString()).resolved);
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

bool RecipeEditor::saveFile(const QString& path, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        if (error) *error = tr("%1: %2").arg(path, f.errorString());
        return false;
    }
    const std::string text = recipeJson().dump(2) + "\n";
    if (f.write(text.data(), qint64(text.size())) != qint64(text.size())) {
        if (error) *error = tr("%1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

QString RecipeEditor::presetsDir() {
    const QString env = qEnvironmentVariable("REFLAB_RESOURCES");
    const QStringList candidates = {
        env.isEmpty() ? QString() : env + "/recipes",
        QCoreApplication::applicationDirPath() + "/../resources/recipes",
        QCoreApplication::applicationDirPath() + "/../../resources/recipes",
        QString(REFLAB_SOURCE_DIR) + "/resources/recipes",
    };
    for (const QString& c : candidates)
        if (!c.isEmpty() && QDir(c).exists()) return QDir(c).absolutePath();
    return {};
}

QStringList RecipeEditor::presetNames() {
    const QString dir = presetsDir();
    if (dir.isEmpty()) return {};
    QStringList names;
    for (const QFileInfo& f : QDir(dir).entryInfoList({"*.json"}, QDir::Files, QDir::Name))
        names << f.completeBaseName();
    return names;
}

bool RecipeEditor::loadPreset(const QString& name, QString* error) {
    return loadFile(presetsDir() + "/" + name + ".json", error);
}

void RecipeEditor::addComponent(const QString& type) {
    nlohmann::json c = componentDefaults(type);
    if (c.is_null()) return;
    nlohmann::json rewards = recipeJson()["rewards"];
    // Component names must be unique: a second nover becomes "nover 2".
    std::string name = c.value("name", type.toStdString());
    for (int n = 2;; ++n) {
        bool used = false;
        for (const auto& r : rewards) used |= r.value("name", "") == name;
        if (!used) break;
        name = type.toStdString() + " " + std::to_string(n);
    }
    c["name"] = name;
    rewards.push_back(c);
    rebuildComponents(rewards);
    m_componentList->setCurrentRow(m_componentList->count() - 1);
    emit edited();
}

void RecipeEditor::removeComponent(int index) {
    nlohmann::json rewards = recipeJson()["rewards"];
    if (index < 0 || index >= int(rewards.size())) return;
    rewards.erase(rewards.begin() + index);
    rebuildComponents(rewards);
    emit edited();
}

void RecipeEditor::moveComponent(int index, int delta) {
    nlohmann::json rewards = recipeJson()["rewards"];
    const int to = index + delta;
    if (index < 0 || to < 0 || index >= int(rewards.size()) || to >= int(rewards.size())) return;
    std::swap(rewards[size_t(index)], rewards[size_t(to)]);
    rebuildComponents(rewards);
    m_componentList->setCurrentRow(to);
    emit edited();
}

}  // namespace reflab::ui
