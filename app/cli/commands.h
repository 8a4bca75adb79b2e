// The subcommands of reflab-cli, one file each (cmd_<name>.cpp). Each adds itself to the app
// with its options and a callback; errors are thrown as reflab::Error and printed by main.
#pragma once
#include <CLI/CLI.hpp>

namespace reflab::cli {

void addTokenizeCommand(CLI::App& app);
void addLogitsCommand(CLI::App& app);
void addGenerateCommand(CLI::App& app);
void addRewardCommand(CLI::App& app);
void addReverseCommand(CLI::App& app);
void addTrainCommand(CLI::App& app);
void addSftCommand(CLI::App& app);
void addRunsCommand(CLI::App& app);
void addExportCommand(CLI::App& app);
void addBenchCommand(CLI::App& app);
void addDataCommand(CLI::App& app);
void addCompareCommand(CLI::App& app);
void addDiagnoseCommand(CLI::App& app);
void addRescoreCommand(CLI::App& app);

}  // namespace reflab::cli
