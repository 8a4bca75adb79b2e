// The Compare panel. Two or more runs side by side: recipe diff, metrics, best values, rollouts.
#pragma once
#include <QWidget>

namespace reflab::ui {

class ComparePanel : public QWidget {
    Q_OBJECT
public:
    explicit ComparePanel(QWidget* parent = nullptr);
};

}  // namespace reflab::ui
