// The Data panel. Reverse reasoning: build chain-of-thought SFT sets from question and reference
// pairs.
#pragma once
#include <QWidget>

namespace reflab::ui {

class DataPanel : public QWidget {
    Q_OBJECT
public:
    explicit DataPanel(QWidget* parent = nullptr);
};

}  // namespace reflab::ui
