// reflab-cli export: see ARCHITECTURE.md (the CLI contract). Not built yet: it says so and fails.
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace reflab::cli {

void addExportCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("export", "(not available yet)");
    cmd->allow_extras();
    cmd->callback([] { throw reflab::Error("'export' is not available in this build yet"); });
}

}  // namespace reflab::cli
