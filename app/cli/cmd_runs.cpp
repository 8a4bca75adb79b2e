// reflab-cli runs --db W.db [--json] [--tagged T]: the runs of a workspace, as a table or as the
// JSON array of ARCHITECTURE.md ({"id", "name", "status", "step", "steps", "tags", ...}). Opens
// the file read-only, except to tag: --run ID --add-tag T / --remove-tag T (repeatable).
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "app/cli/commands.h"
#include "core/base/error.h"
#include "core/store/workspace.h"

namespace reflab::cli {

namespace {

std::string isoTime(double seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

nlohmann::json runJson(const store::RunInfo& r) {
    return {
        {"id", r.id},
        {"name", r.name},
        {"status", store::runStatusName(r.status)},
        {"step", r.step},
        {"steps", r.steps},
        {"kind", r.kind},
        {"created", r.created},
        {"updated", r.updated},
        {"model_path", r.model_path},
        {"model_hash", r.model_hash},
        {"seed", r.seed},
        {"code_version", r.code_version},
        {"parent_run", r.parent_run.empty() ? nlohmann::json() : nlohmann::json(r.parent_run)},
        {"parent_step", r.parent_run.empty() ? nlohmann::json() : nlohmann::json(r.parent_step)},
        {"best_eval", r.best_eval ? nlohmann::json(*r.best_eval) : nlohmann::json()},
        {"writer_pid", r.writer_pid},
        {"tags", r.tags}};
}

}  // namespace

void addRunsCommand(CLI::App& app) {
    struct Options {
        std::string db, run, tagged;
        std::vector<std::string> add_tags, remove_tags;
        bool json = false;
    };
    auto opt = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("runs", "List the runs of a workspace");
    cmd->add_option("--db", opt->db, "workspace file")->required();
    cmd->add_flag("--json", opt->json, "print a JSON array");
    cmd->add_option("--tagged", opt->tagged, "list only the runs with this tag");
    cmd->add_option("--run", opt->run, "the run to tag (with --add-tag / --remove-tag)");
    cmd->add_option("--add-tag", opt->add_tags, "put this tag on --run (repeatable)");
    cmd->add_option("--remove-tag", opt->remove_tags, "take this tag off --run (repeatable)");
    cmd->callback([opt] {
        const bool tagging = !opt->add_tags.empty() || !opt->remove_tags.empty();
        if (tagging && opt->run.empty())
            throw reflab::Error("runs: --add-tag and --remove-tag need --run ID");
        if (!tagging && !opt->run.empty())
            throw reflab::Error("runs: --run needs --add-tag or --remove-tag");
        if (tagging) {
            auto ws = store::Workspace::open(opt->db);
            for (const auto& t : opt->add_tags) ws.addTag(opt->run, t);
            for (const auto& t : opt->remove_tags) ws.removeTag(opt->run, t);
            return;
        }
        auto ws = store::Workspace::open(opt->db, /*read_only=*/true);
        auto runs = ws.listRuns();
        if (!opt->tagged.empty())
            runs.erase(std::remove_if(runs.begin(), runs.end(),
                                      [&](const store::RunInfo& r) {
                                          return std::find(r.tags.begin(), r.tags.end(),
                                                           opt->tagged) == r.tags.end();
                                      }),
                       runs.end());
        if (opt->json) {
            nlohmann::json arr = nlohmann::json::array();
            for (const auto& r : runs) arr.push_back(runJson(r));
            std::cout << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
            return;
        }
        std::printf("%-22s %-24s %-11s %13s %-8s %-19s %s\n", "ID", "NAME", "STATUS", "STEP",
                    "KIND", "CREATED (UTC)", "TAGS");
        for (const auto& r : runs) {
            // Steps are 1-based; step is the last one completed (0 or -1: none yet).
            const std::string step =
                std::to_string(std::max<int64_t>(r.step, 0)) + "/" + std::to_string(r.steps);
            std::string tags;
            for (const auto& t : r.tags) tags += (tags.empty() ? "" : ",") + t;
            std::printf("%-22s %-24s %-11s %13s %-8s %-19s %s\n", r.id.c_str(), r.name.c_str(),
                        store::runStatusName(r.status).c_str(), step.c_str(), r.kind.c_str(),
                        isoTime(r.created).c_str(), tags.c_str());
        }
    });
}

}  // namespace reflab::cli
