// reflab-cli reward: see ARCHITECTURE.md (the CLI contract). Not built yet: it says so and fails.
#include "app/cli/commands.h"
#include "core/base/error.h"

namespace reflab::cli {

void addRewardCommand(CLI::App& app) {
    auto* cmd = app.add_subcommand("reward", "(not available yet)");
    cmd->allow_extras();
    cmd->callback([] { throw reflab::Error("'reward' is not available in this build yet"); });
}

}  // namespace reflab::cli
