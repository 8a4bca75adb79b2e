// RunStatusBar: the status bar's run summary: active runs, and for the most
// recently updated running run its step / steps, steps per second and ETA.
// Rates come from successive listings of the tailer (step and last-update time
// of each run), smoothed so the ETA does not jump.
#pragma once
#include <QHash>
#include <QObject>

class QLabel;
class QStatusBar;

namespace reflab::ui {

class RunsModel;

class RunStatusBar : public QObject {
    Q_OBJECT
public:
    RunStatusBar(QStatusBar* bar, RunsModel* model, QObject* parent = nullptr);
    QString text() const;  // all labels joined, for tests

    // (step, time) observations -> steps/s; exposed for tests.
    struct Rate {
        qint64 step = -1;
        double time = 0;
        double perSecond = 0;
    };
    static Rate advance(const Rate& last, qint64 step, double time);

private:
    void refresh();

    RunsModel* m_model;
    QLabel* m_active = nullptr;
    QLabel* m_progress = nullptr;
    QLabel* m_device = nullptr;
    QHash<QString, Rate> m_rates;
};

// "2h 05m", "4m 10s", "12s"
QString formatDuration(double seconds);

}  // namespace reflab::ui
