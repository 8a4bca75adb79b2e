// Where the reflab-cli binary is: $REFLAB_CLI, else next to this executable, else on PATH.
#pragma once
#include <QString>

namespace reflab::ui {

QString cliPath();

}  // namespace reflab::ui
