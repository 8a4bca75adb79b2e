// reflab-cli reverse: see ARCHITECTURE.md (the CLI contract). Not built yet: it says so and fails.
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace reflab::cli {

void addReverseCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("reverse", "(not available yet)");
    cmd->allow_extras();
    cmd->callback([] { throw reflab::Error("'reverse' is not available in this build yet"); });
}

}  // namespace reflab::cli
