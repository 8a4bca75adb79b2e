// Checkpoint retention. See checkpoint_prune.h.
#include "core/train/checkpoint_prune.h"

#include <algorithm>
#include <filesystem>

#include "core/train/checkpoint_state.h"
#include "core/train/train_error.h"

namespace reflab::train {

namespace fs = std::filesystem;

std::vector<int64_t> pruneCheckpoints(store::Workspace& ws, const std::string& run,
                                      int64_t keep_last) {
    std::vector<int64_t> removed;
    if (keep_last <= 0) return removed;
    // By step, oldest first; a step checkpointed twice (stopped, resumed, stopped again at the
    // same step) is one checkpoint: same directory, rewritten.
    std::vector<store::Checkpoint> cks;
    for (auto& ck : ws.checkpoints(run)) {
        if (!cks.empty() && cks.back().step == ck.step) cks.pop_back();
        cks.push_back(std::move(ck));
    }
    if (static_cast<int64_t>(cks.size()) <= keep_last) return removed;
    cks.resize(cks.size() - static_cast<size_t>(keep_last));
    for (const auto& ck : cks) {
        ws.removeCheckpoint(run, ck.step);
        removed.push_back(ck.step);
        std::error_code ec;
        const fs::path dir(ck.dir);
        if (!fs::exists(dir / kTrainerStateJson, ec)) continue;  // gone already, or not ours
        fs::remove_all(dir, ec);
        if (ec)
            throw TrainError(ck.dir + ": cannot delete the old checkpoint (" + ec.message() + ")");
    }
    return removed;
}

}  // namespace reflab::train
