// reflab-cli sft: see ARCHITECTURE.md (the CLI contract). Not built yet: it says so and fails.
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace reflab::cli {

void addSftCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("sft", "(not available yet)");
    cmd->allow_extras();
    cmd->callback([] { throw reflab::Error("'sft' is not available in this build yet"); });
}

}  // namespace reflab::cli
