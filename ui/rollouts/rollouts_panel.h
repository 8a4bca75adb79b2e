// The Rollouts panel. Every rollout of the selected runs, filterable, with its reward breakdown and token log-probs.
#pragma once
#include <QWidget>

namespace reflab::ui {

class RolloutsPanel : public QWidget {
    Q_OBJECT
public:
    explicit RolloutsPanel(QWidget* parent = nullptr);
};

}  // namespace reflab::ui
