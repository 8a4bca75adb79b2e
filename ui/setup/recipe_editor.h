// RecipeEditor: the recipe JSON of METHODS.md as forms, one per section (model, data, template,
// generation, rewards, reverse_reasoning, algorithm, eval). It edits the parser's resolved
// recipe, so every parameter is shown with its default, and writes back exactly that format.
// Every edit is checked by core/reward's parser (the one parser of the project); its error is
// shown on the field it names. Load/save recipe files and the presets in resources/recipes.
#pragma once
#include <QHash>
#include <QObject>
#include <QStringList>
#include <nlohmann/json.hpp>

class QListWidget;
class QStackedWidget;
class QTimer;
class QWidget;

namespace reflab::ui {

class JsonForm;

class RecipeEditor : public QObject {
    Q_OBJECT
public:
    static const QStringList& sections();  // the object sections, in recipe order
    explicit RecipeEditor(QObject* parent = nullptr);

    // The widget holding a section's form ("model", ..., or "rewards" for the components
    // editor); the panel lays them out. Owned by the caller's layout once placed.
    QWidget* sectionWidget(const QString& section) const { return m_slots.value(section); }
    JsonForm* form(const QString& section) const { return m_forms.value(section); }
    JsonForm* componentForm(int index) const;
    int componentCount() const;

    // Replaces the recipe. Throws RecipeError when the JSON is not a valid recipe.
    void setRecipe(const nlohmann::json& recipe);
    nlohmann::json recipeJson() const;  // the edited recipe (resolved format)
    // Parses the edited recipe; marks the named field and returns the error ("" when valid).
    QString validate();
    QString lastError() const { return m_error; }
    // The valid recipe's warnings (choices that depart from a method's reference code).
    QStringList lastWarnings() const { return m_warnings; }

    bool loadFile(const QString& path, QString* error);
    bool saveFile(const QString& path, QString* error);
    static QString presetsDir();
    static QStringList presetNames();  // file stems of resources/recipes/*.json
    bool loadPreset(const QString& name, QString* error);

    void addComponent(const QString& type);
    void removeComponent(int index);
    void moveComponent(int index, int delta);
    // Defaults of a component type, as the parser fills them.
    static nlohmann::json componentDefaults(const QString& type);
    static QStringList componentTypes();

signals:
    void edited();                         // any field changed (validated after a short delay)
    void validated(const QString& error);  // "" = valid
    void recipeReplaced();

private:
    void rebuildComponents(const nlohmann::json& rewards);
    void scheduleValidate();

    QHash<QString, QWidget*> m_slots;
    QHash<QString, JsonForm*> m_forms;
    QListWidget* m_componentList = nullptr;
    QStackedWidget* m_componentStack = nullptr;
    nlohmann::json m_top;  // version, name and anything outside the sections
    QString m_error;
    QStringList m_warnings;
    QTimer* m_validateTimer = nullptr;
};

}  // namespace reflab::ui
