// RunStatusBar (see run_status_bar.h).
#include "ui/runs/run_status_bar.h"

#include <QLabel>
#include <QStatusBar>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "ui/runs/runs_model.h"

namespace reflab::ui {

QString formatDuration(double s) {
    if (!std::isfinite(s) || s < 0) return QStringLiteral("?");
    const qint64 t = qint64(std::llround(s));
    if (t >= 3600) return QString("%1h %2m").arg(t / 3600).arg((t / 60) % 60, 2, 10, QChar('0'));
    if (t >= 60) return QString("%1m %2s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
    return QString("%1s").arg(t);
}

RunStatusBar::Rate RunStatusBar::advance(const Rate& last, qint64 step, double time) {
    Rate r = last;
    if (last.step < 0 || step < last.step) return {step, time, 0.0};  // first sight or resumed
    if (step == last.step || time <= last.time) return r;
    const double now = double(step - last.step) / (time - last.time);
    // Exponential smoothing: a step's duration varies with its completions'
    // lengths.
    r.perSecond = last.perSecond > 0 ? 0.7 * last.perSecond + 0.3 * now : now;
    r.step = step;
    r.time = time;
    return r;
}

RunStatusBar::RunStatusBar(QStatusBar* bar, RunsModel* model, QObject* parent)
    : QObject(parent), m_model(model) {
    m_active = new QLabel(bar);
    m_active->setObjectName("statusActive");
    m_progress = new QLabel(bar);
    m_progress->setObjectName("statusProgress");
    m_device = new QLabel(bar);
    m_device->setObjectName("statusDevice");
    bar->addPermanentWidget(m_progress);
    bar->addPermanentWidget(m_active);
    bar->addPermanentWidget(m_device);
    connect(model, &RunsModel::dataChanged, this, &RunStatusBar::refresh);
    connect(model, &RunsModel::rowsInserted, this, &RunStatusBar::refresh);
    connect(model, &RunsModel::rowsRemoved, this, &RunStatusBar::refresh);
    connect(model, &RunsModel::modelReset, this, &RunStatusBar::refresh);
    refresh();
}

void RunStatusBar::refresh() {
    int active = 0;
    const reflab::store::RunInfo* latest = nullptr;
    for (const auto& r : m_model->runs()) {
        const QString id = QString::fromStdString(r.id);
        m_rates[id] = advance(m_rates.value(id), r.step, r.updated);
        if (r.status != reflab::store::RunStatus::Running) continue;
        ++active;
        if (!latest || r.updated > latest->updated) latest = &r;
    }
    m_active->setText(tr("%n active run(s)", nullptr, active));
    if (!latest) {
        m_progress->clear();
        m_device->clear();
        return;
    }
    const Rate rate = m_rates.value(QString::fromStdString(latest->id));
    QString text = tr("%1: step %2 / %3")
                       .arg(QString::fromStdString(latest->name))
                       .arg(std::max<qint64>(latest->step, 0))
                       .arg(latest->steps);
    if (rate.perSecond > 0) {
        text += tr(" · %1 steps/s").arg(rate.perSecond, 0, 'g', 3);
        const double left = double(latest->steps - std::max<qint64>(latest->step, 0));
        if (left > 0) text += tr(" · ETA %1").arg(formatDuration(left / rate.perSecond));
    }
    m_progress->setText(text);
    const auto recipe = nlohmann::json::parse(latest->recipe_json, nullptr, false);
    std::string device = "cpu";
    if (!recipe.is_discarded() && recipe.contains("model") && recipe["model"].is_object())
        device = recipe["model"].value("device", "cpu");
    m_device->setText(tr("device %1").arg(QString::fromStdString(device)));
}

QString RunStatusBar::text() const {
    return QStringList({m_progress->text(), m_active->text(), m_device->text()}).join(" | ");
}

}  // namespace reflab::ui
