// `reflab --screenshots DIR`: grabs the main window on each panel (and each
// Setup page) as PNGs for the README and for looking at the GUI as a user
// would.
#pragma once
#include <QString>

namespace reflab::ui {

class MainWindow;

// Returns the number of files written; waits `settle_ms` for data before the
// first grab.
int takeScreenshots(MainWindow& window, const QString& dir, int settle_ms = 2500);

}  // namespace reflab::ui
