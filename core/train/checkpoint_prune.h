// Checkpoint retention (algorithm.keep_checkpoints): after each checkpoint the trainer keeps a
// run's newest K checkpoints and deletes the older ones, so a long run does not fill the disk
// with a full model copy every checkpoint_every steps. The checkpoint just written is the
// newest, so the final one (and the one a stopped run resumes from) is always kept.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/store/workspace.h"

namespace reflab::train {

// Keeps the `keep_last` newest (by step) of the run's checkpoints in the store; each older one
// is removed from the store, then its directory is deleted (when it still exists and holds
// trainer_state.json, so a wrong path never deletes anything else). keep_last <= 0 keeps all.
// Returns the removed steps, oldest first. Throws TrainError naming a directory that cannot be
// deleted; the store no longer lists it then (a crash in between leaves a stray directory,
// never a listed checkpoint without files).
std::vector<int64_t> pruneCheckpoints(store::Workspace& ws, const std::string& run,
                                      int64_t keep_last);

}  // namespace reflab::train
