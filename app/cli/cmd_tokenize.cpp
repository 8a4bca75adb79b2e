// reflab-cli tokenize: see ARCHITECTURE.md (the CLI contract). Not built yet: it says so and fails.
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace reflab::cli {

void addTokenizeCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("tokenize", "(not available yet)");
    cmd->allow_extras();
    cmd->callback([] { throw reflab::Error("'tokenize' is not available in this build yet"); });
}

}  // namespace reflab::cli
