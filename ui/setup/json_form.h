// JsonForm: an editor for one JSON object of a recipe, built from the object itself (the
// parser's resolved section, so every parameter with its default is there). One row per key:
// a checkbox for booleans, a line for numbers (JSON syntax; empty = null; text that is not a
// number stays a string, as log_base "e"), a combo for keys with a fixed set of values, a text
// box for prompts, JSON for lists, a nested group for objects. value() gives back exactly the
// same JSON types, so a recipe round-trips unchanged. Errors of the core's parser are shown on
// the field they name (markError with the key path).
#pragma once
#include <QHash>
#include <QWidget>
#include <nlohmann/json.hpp>

class QFormLayout;
class QLabel;

namespace reflab::ui {

class CriteriaModel;

class JsonForm : public QWidget {
    Q_OBJECT
public:
    // `path` is the object's key path in the recipe ("generation", "rewards[1]").
    JsonForm(const nlohmann::json& object, const QString& path, QWidget* parent = nullptr);

    nlohmann::json value() const;
    const QString& path() const { return m_path; }
    // Sets one field ("proxy.alpha" relative to this form); false if there is no such field.
    bool setField(const QString& relative_path, const nlohmann::json& value);
    nlohmann::json field(const QString& relative_path) const;
    QWidget* fieldWidget(const QString& relative_path) const;

    // Marks the field whose full key path is the longest prefix of `path`; false if none.
    bool markError(const QString& path, const QString& message);
    void clearErrors();
    QString errorText() const;  // the marked message, "" if none

    static QStringList choicesFor(const QString& full_path);

signals:
    void edited();

private:
    struct Field {
        QString key;
        enum Kind { Bool, Scalar, Choice, Text, Line, List, Object, ReadOnly, Table } kind;
        QWidget* editor = nullptr;
        JsonForm* child = nullptr;       // Object
        CriteriaModel* table = nullptr;  // Table (a rubric's criteria)
        QLabel* error = nullptr;
        nlohmann::json fixed;  // ReadOnly
    };
    void addField(const std::string& key, const nlohmann::json& v, QFormLayout* form);
    nlohmann::json fieldValue(const Field& f) const;
    void setFieldValue(Field& f, const nlohmann::json& v);

    QString m_path;
    QVector<Field> m_fields;
    QString m_error;
};

QString fieldLabel(const QString& key);

}  // namespace reflab::ui
