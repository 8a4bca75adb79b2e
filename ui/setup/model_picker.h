// ModelPicker: what the model directory of the recipe is (architecture, parameters, dtype,
// vocabulary, layers, chat template), read with core/model's loadModelConfig. Shows the
// loader's error when the directory is not a usable Hugging Face model.
#pragma once
#include <QWidget>

class QLabel;

namespace reflab::ui {

class ModelPicker : public QWidget {
    Q_OBJECT
public:
    explicit ModelPicker(QWidget* parent = nullptr);
    void setModelDir(const QString& dir);  // relative paths are taken from the working dir
    QString summary() const;               // the text shown, for tests
    static bool available();               // false when core/model is not built in

signals:
    void browseChosen(const QString& dir);

private:
    QLabel* m_info = nullptr;
};

// "1.2M", "494M", "7.6B"
QString formatCount(qint64 n);

}  // namespace reflab::ui
