// reflab-cli: the headless entry point. Usage errors print one line
// "reflab-cli: error: <what>" and exit 2; runtime errors the same with exit 1.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "app/cli/commands.h"
#include "core/base/blas_environment.h"
#include "core/base/error.h"
#include "core/base/version.h"
#include "core/model/runtime.h"
#include "core/store/sqlite_db.h"

int main(int argc, char** argv) {
    reflab::restartWithBlasEnvironment(argv);  // before any thread: it may exec the program anew
    CLI::App app{"RefLab: verifier-free RL of language models, headless.", "reflab-cli"};
    app.set_version_flag("--version", "reflab-cli " + reflab::reflabVersion() + " (LibTorch " +
                                          reflab::torchVersion() + ", SQLite " +
                                          reflab::store::sqliteVersion() + ")");
    app.require_subcommand(0, 1);
    int threads = 0;
    app.add_option("--threads", threads,
                   "intra-op threads (default: all cores, shared among LOCAL_WORLD_SIZE "
                   "data-parallel ranks)");
    reflab::cli::addTokenizeCommand(app);
    reflab::cli::addLogitsCommand(app);
    reflab::cli::addGenerateCommand(app);
    reflab::cli::addRewardCommand(app);
    reflab::cli::addReverseCommand(app);
    reflab::cli::addTrainCommand(app);
    reflab::cli::addSftCommand(app);
    reflab::cli::addRunsCommand(app);
    reflab::cli::addExportCommand(app);
    reflab::cli::addBenchCommand(app);
    reflab::cli::addDataCommand(app);
    reflab::cli::addCompareCommand(app);
    reflab::cli::addDiagnoseCommand(app);
    reflab::cli::addRescoreCommand(app);
    app.parse_complete_callback([&threads] {
        // Data-parallel ranks on one machine (torchrun's LOCAL_WORLD_SIZE, which
        // scripts/launch.sh sets) share its cores instead of each taking all of them.
        const char* local = std::getenv("LOCAL_WORLD_SIZE");
        const int ranks = local ? std::atoi(local) : 1;
        if (threads == 0 && ranks > 1)
            threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / ranks);
        reflab::runtimeInit(threads);
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        std::string what = e.what();
        for (char& c : what)
            if (c == '\n') c = ' ';
        std::fprintf(stderr, "reflab-cli: error: %s\n", what.c_str());
        return 2;
    } catch (const reflab::Error& e) {
        std::fprintf(stderr, "reflab-cli: error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "reflab-cli: error: %s\n", e.what());
        return 1;
    }
    if (argc == 1) std::cout << app.help();
    return 0;
}
