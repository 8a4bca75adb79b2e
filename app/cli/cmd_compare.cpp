// reflab-cli compare --db W.db --runs A,B[,C] [--metrics m1,m2] --json|--markdown: the recipe
// diff, fork lineage and summary table of core/analysis/run_compare. Opens the file read-only.
// Runs of different models compare with a warning (on stderr, and in the output).
#include <cstdio>
#include <iostream>

#include "app/cli/commands.h"
#include "core/analysis/run_compare.h"
#include "core/analysis/run_compare_report.h"
#include "core/base/error.h"

namespace reflab::cli {

void addCompareCommand(CLI::App& app) {
    struct Options {
        std::string db;
        std::vector<std::string> runs, metrics;
        bool json = false, markdown = false;
    };
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("compare", "Compare runs: recipe diff and summary table");
    cmd->add_option("--db", opt->db, "workspace file")->required();
    cmd->add_option("--runs", opt->runs, "run ids, comma separated")->required()->delimiter(',');
    cmd->add_option("--metrics", opt->metrics, "metrics of the summary, comma separated")
        ->delimiter(',');
    auto* json_flag = cmd->add_flag("--json", opt->json, "print JSON");
    cmd->add_flag("--markdown", opt->markdown, "print Markdown (the default)")->excludes(json_flag);
    cmd->callback([opt] {
        if (opt->runs.size() < 2)
            throw reflab::Error("compare: --runs needs two or more run ids, comma separated");
        auto ws = store::Workspace::open(opt->db, /*read_only=*/true);
        const auto c = analysis::compareRuns(ws, opt->runs, opt->metrics);
        for (const auto& w : c.warnings)
            std::fprintf(stderr, "reflab-cli: warning: %s\n", w.c_str());
        if (opt->json)
            std::cout << analysis::comparisonJson(c).dump(2, ' ', false,
                                                          nlohmann::json::error_handler_t::replace)
                      << '\n';
        else
            std::cout << analysis::comparisonMarkdown(c);
    });
}

}  // namespace reflab::cli
