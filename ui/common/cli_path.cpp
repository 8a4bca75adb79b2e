// Locating reflab-cli (see cli_path.h).
#include "ui/common/cli_path.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QStandardPaths>

namespace reflab::ui {

QString cliPath() {
    const QString env = qEnvironmentVariable("REFLAB_CLI");
    if (!env.isEmpty()) return env;
    const QString sibling = QCoreApplication::applicationDirPath() + "/reflab-cli";
    if (QFileInfo(sibling).isExecutable()) return sibling;
    // Tests run from build/tests; the binaries are in build/bin.
    const QString bin = QCoreApplication::applicationDirPath() + "/../bin/reflab-cli";
    if (QFileInfo(bin).isExecutable()) return QFileInfo(bin).absoluteFilePath();
    const QString onPath = QStandardPaths::findExecutable("reflab-cli");
    return onPath.isEmpty() ? sibling : onPath;
}

}  // namespace reflab::ui
