// The Setup panel. Choose a model and data, edit the reward recipe, try the rewards, start a run.
#pragma once
#include <QWidget>

namespace reflab::ui {

class SetupPanel : public QWidget {
    Q_OBJECT
public:
    explicit SetupPanel(QWidget* parent = nullptr);
};

}  // namespace reflab::ui
