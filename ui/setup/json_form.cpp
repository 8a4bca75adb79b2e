// JsonForm (see json_form.h).
#include "ui/setup/json_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/setup/criteria_model.h"

namespace reflab::ui {

namespace {

const char* kErrorStyle = "border: 1px solid #d32f2f; background: #fdecea;";

QString jsonText(const nlohmann::json& v) {
    return v.is_null() ? QString() : QString::fromStdString(v.dump());
}

// Keys edited as multi-line text: prompts and the system message.
bool isTextKey(const std::string& key) {
    return key == "system" || key == "user" || key == "prompt";
}

}  // namespace

QString fieldLabel(const QString& key) {
    // "kl_coef" -> "KL coef", "lr_schedule" -> "LR schedule": acronyms as researchers write them.
    static const QStringList kUpper = {"kl", "lr", "nll", "ppo", "grpo", "rgr", "rlpr"};
    QStringList words = key.split('_', Qt::SkipEmptyParts);
    for (QString& w : words)
        if (kUpper.contains(w.toLower())) w = w.toUpper();
    QString s = words.join(' ');
    if (!s.isEmpty()) s[0] = s[0].toUpper();
    return s;
}

QStringList JsonForm::choicesFor(const QString& full_path) {
    const QString key = full_path.section('.', -1);
    // "model" is a fixed choice only as the rubric's judge source (proxy.model is a path).
    if (key == "model" && !full_path.endsWith("judge.model")) return {};
    static const QHash<QString, QStringList> kChoices = {
        {"dtype", {"float32", "bfloat16", "float16"}},
        {"advantage", {"grpo", "dr_grpo", "rloo"}},
        {"loss", {"ppo_clip"}},
        {"aggregation", {"token_mean", "seq_mean", "seq_sum"}},
        {"kl_reference", {"initial", "proxy"}},
        {"metric", {"exact_match"}},
        {"apply_to", {"answer", "completion"}},
        {"check", {"template", "nover"}},
        {"model", {"policy", "snapshot", "dir"}},  // rubric judge.model (a string only there)
        {"device", {"cpu", "cuda", "cuda:0", "cuda:1"}},
        {"lr_schedule", {"constant", "cosine"}},
    };
    return kChoices.value(key);
}

JsonForm::JsonForm(const nlohmann::json& object, const QString& path, QWidget* parent)
    : QWidget(parent), m_path(path) {
    auto* form = new QFormLayout(this);
    form->setContentsMargins(0, 0, 0, 0);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    // type, name and weight first (they say what a component is), the template and data
    // fields in reading order (system before user, training data before eval), then the rest
    // in key order.
    std::vector<std::string> keys;
    for (const char* k : {"type", "name", "weight", "system", "user", "think", "answer", "train",
                          "eval", "prompt_field", "reference_field"})
        if (object.contains(k)) keys.push_back(k);
    for (auto it = object.begin(); it != object.end(); ++it)
        if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    for (const std::string& k : keys) addField(k, object.at(k), form);
}

void JsonForm::addField(const std::string& key, const nlohmann::json& v, QFormLayout* form) {
    Field f;
    f.key = QString::fromStdString(key);
    const QString full = m_path.isEmpty() ? f.key : m_path + "." + f.key;
    QWidget* row = nullptr;
    const QStringList choices = v.is_string() ? choicesFor(full) : QStringList();
    if (key == "type" && v.is_string()) {
        f.kind = Field::ReadOnly;
        f.fixed = v;
        auto* l = new QLabel("<b>" + QString::fromStdString(v.get<std::string>()) + "</b>", this);
        f.editor = l;
    } else if (v.is_boolean()) {
        f.kind = Field::Bool;
        auto* c = new QCheckBox(this);
        connect(c, &QCheckBox::toggled, this, &JsonForm::edited);
        f.editor = c;
    } else if (v.is_number() || v.is_null()) {
        f.kind = Field::Scalar;
        auto* e = new QLineEdit(this);
        if (v.is_null()) e->setPlaceholderText(tr("default"));
        connect(e, &QLineEdit::textEdited, this, &JsonForm::edited);
        f.editor = e;
    } else if (!choices.isEmpty()) {
        f.kind = Field::Choice;
        auto* c = new QComboBox(this);
        c->addItems(choices);
        connect(c, &QComboBox::currentTextChanged, this, &JsonForm::edited);
        f.editor = c;
    } else if (v.is_string() && isTextKey(key)) {
        f.kind = Field::Text;
        auto* t = new QPlainTextEdit(this);
        t->setMinimumHeight(60);
        t->setMaximumHeight(key == "prompt" || key == "system" ? 130 : 60);
        t->setTabChangesFocus(true);
        connect(t, &QPlainTextEdit::textChanged, this, &JsonForm::edited);
        f.editor = t;
    } else if (v.is_string()) {
        f.kind = Field::Line;
        auto* e = new QLineEdit(this);
        connect(e, &QLineEdit::textEdited, this, &JsonForm::edited);
        f.editor = e;
    } else if (v.is_object()) {
        f.kind = Field::Object;
        auto* box = new QGroupBox(fieldLabel(f.key), this);
        auto* lay = new QVBoxLayout(box);
        f.child = new JsonForm(v, full, box);
        lay->addWidget(f.child);
        connect(f.child, &JsonForm::edited, this, &JsonForm::edited);
        f.editor = box;
    } else if (v.is_array() && key == "criteria") {
        f.kind = Field::Table;
        auto* box = new QWidget(this);
        auto* lay = new QVBoxLayout(box);
        lay->setContentsMargins(0, 0, 0, 0);
        f.table = new CriteriaModel(this);
        auto* view = new QTableView(box);
        view->setObjectName("criteriaTable");
        view->setModel(f.table);
        view->horizontalHeader()->setStretchLastSection(true);
        view->setMinimumHeight(170);
        view->setEditTriggers(QAbstractItemView::AllEditTriggers);
        auto* buttons = new QHBoxLayout;
        auto* add = new QPushButton(tr("Add criterion"), box);
        auto* remove = new QPushButton(tr("Remove"), box);
        buttons->addWidget(add);
        buttons->addWidget(remove);
        buttons->addStretch(1);
        lay->addWidget(view);
        lay->addLayout(buttons);
        CriteriaModel* model = f.table;
        connect(add, &QPushButton::clicked, model, &CriteriaModel::addCriterion);
        connect(remove, &QPushButton::clicked, this,
                [view, model] { model->removeCriterion(view->currentIndex().row()); });
        connect(model, &CriteriaModel::edited, this, &JsonForm::edited);
        f.editor = box;
    } else {  // arrays (tag pairs, word lists): JSON text
        f.kind = Field::List;
        auto* e = new QLineEdit(this);
        e->setToolTip(tr("A JSON list, e.g. [\"<think>\", \"</think>\"]"));
        connect(e, &QLineEdit::textEdited, this, &JsonForm::edited);
        f.editor = e;
    }
    f.editor->setObjectName("field:" + full);
    if (f.kind != Field::Object && f.kind != Field::ReadOnly) f.editor->setToolTip(full);
    f.error = new QLabel(this);
    f.error->setObjectName("error:" + full);
    f.error->setStyleSheet("color: #c62828;");
    f.error->setWordWrap(true);
    f.error->hide();
    auto* cell = new QWidget(this);
    auto* cellLayout = new QVBoxLayout(cell);
    cellLayout->setContentsMargins(0, 0, 0, 0);
    cellLayout->setSpacing(1);
    cellLayout->addWidget(f.editor);
    cellLayout->addWidget(f.error);
    row = cell;
    setFieldValue(f, v);
    if (f.kind == Field::Object)
        form->addRow(row);
    else
        form->addRow(fieldLabel(f.key), row);
    m_fields.append(f);
}

void JsonForm::setFieldValue(Field& f, const nlohmann::json& v) {
    const QSignalBlocker block(f.editor);
    switch (f.kind) {
        case Field::Bool:
            static_cast<QCheckBox*>(f.editor)->setChecked(v.is_boolean() && v.get<bool>());
            break;
        case Field::Scalar:
            static_cast<QLineEdit*>(f.editor)->setText(
                v.is_string() ? QString::fromStdString(v.get<std::string>()) : jsonText(v));
            break;
        case Field::Choice: {
            auto* c = static_cast<QComboBox*>(f.editor);
            const QString s =
                v.is_string() ? QString::fromStdString(v.get<std::string>()) : QString();
            if (c->findText(s) < 0) c->addItem(s);
            c->setCurrentText(s);
            break;
        }
        case Field::Text:
            static_cast<QPlainTextEdit*>(f.editor)->setPlainText(
                v.is_string() ? QString::fromStdString(v.get<std::string>()) : QString());
            break;
        case Field::Line:
            static_cast<QLineEdit*>(f.editor)->setText(
                v.is_string() ? QString::fromStdString(v.get<std::string>()) : QString());
            break;
        case Field::List: {
            auto* e = static_cast<QLineEdit*>(f.editor);
            e->setText(jsonText(v));
            e->setCursorPosition(0);  // a long list reads from its start, not its end
            break;
        }
        case Field::Object:
            if (v.is_object())
                for (auto it = v.begin(); it != v.end(); ++it)
                    f.child->setField(QString::fromStdString(it.key()), it.value());
            break;
        case Field::ReadOnly:
            f.fixed = v;
            break;
        case Field::Table:
            f.table->setCriteria(v);
            break;
    }
}

nlohmann::json JsonForm::fieldValue(const Field& f) const {
    switch (f.kind) {
        case Field::Bool:
            return static_cast<QCheckBox*>(f.editor)->isChecked();
        case Field::Scalar: {
            const std::string text =
                static_cast<QLineEdit*>(f.editor)->text().trimmed().toStdString();
            if (text.empty()) return nullptr;
            // A number in JSON syntax keeps its type (8 integer, 0.5 real); anything else is
            // passed on as a string for the parser to accept ("e") or reject by name.
            const nlohmann::json parsed =
                nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
            if (!parsed.is_discarded() && (parsed.is_number() || parsed.is_null())) return parsed;
            return text;
        }
        case Field::Choice:
            return static_cast<QComboBox*>(f.editor)->currentText().toStdString();
        case Field::Text:
            return static_cast<QPlainTextEdit*>(f.editor)->toPlainText().toStdString();
        case Field::Line:
            return static_cast<QLineEdit*>(f.editor)->text().toStdString();
        case Field::List: {
            const std::string text = static_cast<QLineEdit*>(f.editor)->text().toStdString();
            const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
            return parsed.is_discarded() ? nlohmann::json(text) : parsed;  // the parser names it
        }
        case Field::Object:
            return f.child->value();
        case Field::ReadOnly:
            return f.fixed;
        case Field::Table:
            return f.table->criteria();
    }
    return nullptr;
}

nlohmann::json JsonForm::value() const {
    nlohmann::json out = nlohmann::json::object();
    for (const Field& f : m_fields) out[f.key.toStdString()] = fieldValue(f);
    return out;
}

bool JsonForm::setField(const QString& relative_path, const nlohmann::json& value) {
    const QString head = relative_path.section('.', 0, 0);
    const QString rest = relative_path.section('.', 1);
    for (Field& f : m_fields) {
        if (f.key != head) continue;
        if (!rest.isEmpty()) return f.child && f.child->setField(rest, value);
        setFieldValue(f, value);
        return true;
    }
    return false;
}

nlohmann::json JsonForm::field(const QString& relative_path) const {
    const QString head = relative_path.section('.', 0, 0);
    const QString rest = relative_path.section('.', 1);
    for (const Field& f : m_fields) {
        if (f.key != head) continue;
        if (!rest.isEmpty()) return f.child ? f.child->field(rest) : nlohmann::json();
        return fieldValue(f);
    }
    return nullptr;
}

QWidget* JsonForm::fieldWidget(const QString& relative_path) const {
    const QString head = relative_path.section('.', 0, 0);
    const QString rest = relative_path.section('.', 1);
    for (const Field& f : m_fields) {
        if (f.key != head) continue;
        if (!rest.isEmpty()) return f.child ? f.child->fieldWidget(rest) : nullptr;
        return f.editor;
    }
    return nullptr;
}

bool JsonForm::markError(const QString& path, const QString& message) {
    for (Field& f : m_fields) {
        const QString full = m_path.isEmpty() ? f.key : m_path + "." + f.key;
        if (path != full && !path.startsWith(full + ".") && !path.startsWith(full + "[")) continue;
        if (f.child && f.child->markError(path, message)) return true;
        if (f.kind != Field::Object) f.editor->setStyleSheet(kErrorStyle);
        f.error->setText(message);
        f.error->show();
        m_error = message;
        return true;
    }
    return false;
}

void JsonForm::clearErrors() {
    m_error.clear();
    for (Field& f : m_fields) {
        if (f.child) f.child->clearErrors();
        if (!f.error->isHidden()) {
            f.editor->setStyleSheet({});
            f.error->hide();
            f.error->clear();
        }
    }
}

QString JsonForm::errorText() const {
    if (!m_error.isEmpty()) return m_error;
    for (const Field& f : m_fields)
        if (f.child && !f.child->errorText().isEmpty()) return f.child->errorText();
    return {};
}

}  // namespace reflab::ui
