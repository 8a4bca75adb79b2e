// Help > About: what RefLab is and the versions of Qt, LibTorch and SQLite it runs on.
#pragma once
#include <QDialog>

namespace reflab::ui {

class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(QWidget* parent = nullptr);
    // The text shown, also used by tests: one line per library with its version.
    static QString versionsText();
};

}  // namespace reflab::ui
