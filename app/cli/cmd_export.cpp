// reflab-cli export --db W.db --run RUN --what metrics|rollouts --format csv|jsonl [--out F]:
// one run's metrics or rollouts to stdout (or a file). Opens the workspace read-only.
#include <fstream>
#include <iostream>

#include "app/cli/commands.h"
#include "core/store/store_export.h"

namespace reflab::cli {

void addExportCommand(CLI::App& app) {
    struct Options {
        std::string db, run, what, format, out;
    };
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("export", "Export a run's metrics or rollouts as CSV or JSONL");
    cmd->add_option("--db", opt->db, "workspace file")->required();
    cmd->add_option("--run", opt->run, "run id")->required();
    cmd->add_option("--what", opt->what, "metrics | rollouts")
        ->required()
        ->check(CLI::IsMember({"metrics", "rollouts"}));
    cmd->add_option("--format", opt->format, "csv | jsonl")
        ->required()
        ->check(CLI::IsMember({"csv", "jsonl"}));
    cmd->add_option("--out", opt->out, "output file (default: stdout)");
    cmd->callback([opt] {
        auto ws = store::Workspace::open(opt->db, /*read_only=*/true);
        const auto format = store::exportFormatFromName(opt->format);
        const auto what = store::exportWhatFromName(opt->what);
        std::ofstream file;
        if (!opt->out.empty()) {
            file.open(opt->out, std::ios::binary | std::ios::trunc);
            if (!file) throw store::StoreError(opt->out + ": cannot write the export file");
        }
        std::ostream& out = opt->out.empty() ? std::cout : file;
        if (what == store::ExportWhat::Metrics)
            store::exportMetrics(ws, opt->run, format, out);
        else
            store::exportRollouts(ws, opt->run, format, out);
        out.flush();
        if (!out)
            throw store::StoreError((opt->out.empty() ? "stdout" : opt->out) + ": write failed");
    });
}

}  // namespace reflab::cli
