// Synthetic workspaces and the store benchmark (`reflab-cli bench --what store`).
// SyntheticRun makes runs of a realistic shape (groups of samples per prompt, 256-token
// completions with think/answer tags, NOVER-like reward components with intermediates, a
// vocabulary) so the benchmark, the GUI's large-workspace tests and demos share one generator.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "core/store/workspace.h"

namespace reflab::store {

struct SyntheticOptions {
    int64_t rollouts = 1000000;  // total, rounded up to whole steps
    int tokens = 256;            // completion tokens per rollout
    int prompts_per_step = 8;
    int group_size = 8;           // samples per prompt
    int distinct_prompts = 2000;  // the dataset cycled through
    int vocab_size = 151936;      // Qwen2's
    int metrics_per_step = 12;
    bool entropies = false;  // per-token entropies too (a recipe with generation.store_entropy)
    uint64_t seed = 1;
    std::string name = "synthetic";
};

// Deterministic: the same options give the same records.
class SyntheticRun {
public:
    explicit SyntheticRun(const SyntheticOptions& options);
    NewRun newRun() const;                 // with the synthetic vocabulary
    int64_t steps() const;                 // ceil(rollouts / (prompts_per_step * group_size))
    StepRecord step(int64_t index) const;  // index in [0, steps())
    const std::vector<std::string>& vocabulary() const { return m_vocab; }

private:
    SyntheticOptions m_opt;
    std::vector<std::string> m_vocab;
};

// Writes a whole synthetic run into ws; returns its id. progress(steps_done) after each step.
std::string writeSyntheticRun(Workspace& ws, const SyntheticOptions& options,
                              const std::function<void(int64_t)>& progress = {});

struct StoreBenchOptions {
    int64_t rollouts = 1000000;
    std::string path;  // workspace to create; empty: a temporary file, removed afterwards
    bool keep = false;
    bool entropies = false;  // SyntheticOptions::entropies: bytes_per_rollout with them
};

// {"ingest_rollouts_per_s", "page_ms", "rollout_ms", "bytes_per_rollout", "rollouts", ...}
nlohmann::json benchStore(const StoreBenchOptions& options,
                          const std::function<void(const std::string&)>& log = {});

}  // namespace reflab::store
