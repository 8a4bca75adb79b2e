// RolloutFilterBar: the Rollouts panel's filters, composed into one store::RolloutFilter (runs
// left empty: the panel sets them). Text search, step range, reward range, a component's range,
// finish reason, format, correctness, train/eval and "zero-std groups only". Emits
// filterChanged once the user pauses (typing does not query per key stroke).
#pragma once
#include <QWidget>

#include "core/store/workspace.h"

class QCheckBox;
class QComboBox;
class QLineEdit;
class QTimer;

namespace reflab::ui {

class RolloutFilterBar : public QWidget {
    Q_OBJECT
public:
    explicit RolloutFilterBar(QWidget* parent = nullptr);

    store::RolloutFilter filter() const;
    void setComponents(const QStringList& names);  // the component box's choices
    // Exactly step `step` (a chart click), every other filter cleared; emits nothing.
    void showStep(qint64 step);
    void clear();
    void focusSearch();
    QLineEdit* searchBox() const { return m_search; }

signals:
    void filterChanged();

private:
    QLineEdit* addNumber(const QString& name, const QString& placeholder, bool integer);
    void changed();
    void reset();  // every filter cleared, without a signal

    QLineEdit* m_search = nullptr;
    QLineEdit *m_stepMin = nullptr, *m_stepMax = nullptr;
    QLineEdit *m_rewardMin = nullptr, *m_rewardMax = nullptr;
    QComboBox* m_component = nullptr;
    QLineEdit *m_componentMin = nullptr, *m_componentMax = nullptr;
    QComboBox* m_finish = nullptr;
    QComboBox* m_format = nullptr;
    QComboBox* m_correct = nullptr;
    QComboBox* m_split = nullptr;
    QCheckBox* m_flat = nullptr;
    QTimer* m_debounce = nullptr;
};

}  // namespace reflab::ui
