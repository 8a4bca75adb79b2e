// A Dashboard chart written as a report figure from the command line (`reflab ws.db --show-run A
// --show-run B --export-chart eval/exact_match --export-to fig.png`): the README's demo plot is
// drawn by RefLab itself, from the workspace, by the same chart a user looks at.
#pragma once
#include <QSize>
#include <QString>
#include <functional>

namespace reflab::ui {

class DashboardPanel;

struct FigureRequest {
    QString metric;
    QString path;
    QSize size{960, 480};
    int timeoutMs = 60000;
};

// Waits (running the event loop; the data arrives from the workspace's loader thread) until
// presented() is true and the chart of the metric holds points that stopped changing, then
// writes the figure without smoothing. False with a message naming the metric or the file when
// the metric never shows or the PNG cannot be written.
bool exportFigureWhenLoaded(DashboardPanel* dashboard, const std::function<bool()>& presented,
                            const FigureRequest& request, QString* error);

}  // namespace reflab::ui
