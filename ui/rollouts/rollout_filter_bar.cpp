// RolloutFilterBar (see rollout_filter_bar.h).
#include "ui/rollouts/rollout_filter_bar.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleValidator>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QIntValidator>
#include <QLabel>
#include <QLineEdit>
#include <QTimer>
#include <QToolButton>
#include <limits>

namespace reflab::ui {

namespace {

std::optional<double> real(const QLineEdit* e) {
    bool ok = false;
    const double v = e->text().trimmed().toDouble(&ok);
    return ok ? std::optional<double>(v) : std::nullopt;
}

std::optional<int64_t> integer(const QLineEdit* e) {
    bool ok = false;
    const qint64 v = e->text().trimmed().toLongLong(&ok);
    return ok ? std::optional<int64_t>(v) : std::nullopt;
}

QComboBox* choices(QWidget* parent, const QString& name, const QStringList& items) {
    auto* box = new QComboBox(parent);
    box->setObjectName(name);
    box->addItems(items);
    box->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    return box;
}

}  // namespace

RolloutFilterBar::RolloutFilterBar(QWidget* parent) : QWidget(parent) {
    setObjectName("rolloutFilterBar");
    m_debounce = new QTimer(this);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(250);
    connect(m_debounce, &QTimer::timeout, this, &RolloutFilterBar::filterChanged);

    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(6);
    grid->setVerticalSpacing(3);

    m_search = new QLineEdit(this);
    m_search->setObjectName("rolloutSearch");
    m_search->setClearButtonEnabled(true);
    m_search->setPlaceholderText(tr("Search prompt, completion, reference (Ctrl+F)"));
    m_search->setToolTip(
        tr("Substring, case-insensitive; from 3 characters on the full-text index answers"));
    m_stepMin = addNumber("rolloutStepMin", tr("from"), true);
    m_stepMax = addNumber("rolloutStepMax", tr("to"), true);
    m_rewardMin = addNumber("rolloutRewardMin", tr("min"), false);
    m_rewardMax = addNumber("rolloutRewardMax", tr("max"), false);
    m_component = choices(this, "rolloutComponent", {tr("(component)")});
    m_componentMin = addNumber("rolloutComponentMin", tr("min"), false);
    m_componentMax = addNumber("rolloutComponentMax", tr("max"), false);
    m_finish = choices(this, "rolloutFinish", {tr("any finish"), "eos", "length", "stop"});
    m_finish->setEditable(true);
    m_finish->setToolTip(tr("Finish reason (type another one)"));
    m_format = choices(this, "rolloutFormat", {tr("any format"), tr("valid"), tr("invalid")});
    m_correct = choices(this, "rolloutCorrect",
                        {tr("any verdict"), tr("correct"), tr("incorrect"), tr("unknown")});
    m_split = choices(this, "rolloutSplit", {tr("train + eval"), tr("train"), tr("eval")});
    m_flat = new QCheckBox(tr("zero-std groups"), this);
    m_flat->setObjectName("rolloutFlatGroups");
    m_flat->setToolTip(tr("Only groups whose rewards are all equal (no learning signal)"));
    auto* reset = new QToolButton(this);
    reset->setText(tr("Clear"));
    reset->setToolTip(tr("Clear every filter"));
    connect(reset, &QToolButton::clicked, this, &RolloutFilterBar::clear);

    auto* row1 = new QHBoxLayout;
    row1->addWidget(m_search, 1);
    row1->addWidget(new QLabel(tr("Step"), this));
    row1->addWidget(m_stepMin);
    row1->addWidget(m_stepMax);
    row1->addWidget(new QLabel(tr("Reward"), this));
    row1->addWidget(m_rewardMin);
    row1->addWidget(m_rewardMax);
    auto* row2 = new QHBoxLayout;
    row2->addWidget(m_component);
    row2->addWidget(m_componentMin);
    row2->addWidget(m_componentMax);
    row2->addWidget(m_finish);
    row2->addWidget(m_format);
    row2->addWidget(m_correct);
    row2->addWidget(m_split);
    row2->addWidget(m_flat);
    row2->addStretch(1);
    row2->addWidget(reset);
    grid->addLayout(row1, 0, 0);
    grid->addLayout(row2, 1, 0);

    connect(m_search, &QLineEdit::textChanged, this, &RolloutFilterBar::changed);
    for (QComboBox* box : {m_component, m_format, m_correct, m_split})
        connect(box, &QComboBox::currentIndexChanged, this, &RolloutFilterBar::changed);
    connect(m_finish, &QComboBox::currentTextChanged, this, &RolloutFilterBar::changed);
    connect(m_flat, &QCheckBox::toggled, this, &RolloutFilterBar::changed);
}

QLineEdit* RolloutFilterBar::addNumber(const QString& name, const QString& placeholder,
                                       bool is_integer) {
    auto* e = new QLineEdit(this);
    e->setObjectName(name);
    e->setPlaceholderText(placeholder);
    e->setMaximumWidth(70);
    if (is_integer)
        e->setValidator(new QIntValidator(0, std::numeric_limits<int>::max(), e));
    else
        e->setValidator(new QDoubleValidator(e));
    connect(e, &QLineEdit::textChanged, this, &RolloutFilterBar::changed);
    return e;
}

void RolloutFilterBar::changed() {
    m_debounce->start();
}

store::RolloutFilter RolloutFilterBar::filter() const {
    store::RolloutFilter f;
    f.text = m_search->text().toStdString();
    f.step_min = integer(m_stepMin);
    f.step_max = integer(m_stepMax);
    f.reward_min = real(m_rewardMin);
    f.reward_max = real(m_rewardMax);
    if (m_component->currentIndex() > 0) {
        f.component = m_component->currentText().toStdString();
        f.component_min = real(m_componentMin);
        f.component_max = real(m_componentMax);
    }
    if (m_finish->currentIndex() != 0 && !m_finish->currentText().isEmpty())
        f.finish_reason = m_finish->currentText().toStdString();
    if (m_format->currentIndex() > 0) f.format_valid = m_format->currentIndex() == 1;
    if (m_correct->currentIndex() == 3)
        f.correct_unknown = true;
    else if (m_correct->currentIndex() > 0)
        f.correct = m_correct->currentIndex() == 1;
    if (m_split->currentIndex() > 0) f.is_eval = m_split->currentIndex() == 2;
    f.flat_groups_only = m_flat->isChecked();
    return f;
}

void RolloutFilterBar::setComponents(const QStringList& names) {
    const QString current = m_component->currentIndex() > 0 ? m_component->currentText() : "";
    const QSignalBlocker block(m_component);
    m_component->clear();
    m_component->addItem(tr("(component)"));
    m_component->addItems(names);
    const int at = m_component->findText(current);
    m_component->setCurrentIndex(current.isEmpty() || at < 0 ? 0 : at);
}

void RolloutFilterBar::clear() {
    reset();
    emit filterChanged();
}

void RolloutFilterBar::reset() {
    {
        const QSignalBlocker a(m_search), b(m_stepMin), c(m_stepMax), d(m_rewardMin),
            e(m_rewardMax), g(m_component), h(m_componentMin), i(m_componentMax), j(m_finish),
            k(m_format), l(m_correct), m(m_split), n(m_flat);
        for (QLineEdit* line : {m_search, m_stepMin, m_stepMax, m_rewardMin, m_rewardMax,
                                m_componentMin, m_componentMax})
            line->clear();
        for (QComboBox* box : {m_component, m_finish, m_format, m_correct, m_split})
            box->setCurrentIndex(0);
        m_flat->setChecked(false);
    }
    m_debounce->stop();
}

void RolloutFilterBar::showStep(qint64 step) {
    reset();
    const QSignalBlocker a(m_stepMin), b(m_stepMax);
    m_stepMin->setText(QString::number(step));
    m_stepMax->setText(QString::number(step));
}

void RolloutFilterBar::focusSearch() {
    m_search->setFocus(Qt::ShortcutFocusReason);
    m_search->selectAll();
}

}  // namespace reflab::ui
