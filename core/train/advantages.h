// Group advantages of the GRPO family (METHODS.md, Algorithm): one group = the G completions of
// one prompt. Pure arithmetic on doubles, no tensors, so the tests can state every value by hand.
#pragma once
#include <string>
#include <vector>

namespace reflab::train {

enum class AdvantageKind {
    Grpo,    // (R - mean) / (std + std_eps), std the sample std (n - 1), as TRL's torch.std
    DrGrpo,  // R - mean (Dr. GRPO: no std, so easy/hard groups are not re-weighted)
    Rloo,    // R - mean_{j != i} R_j (leave-one-out baseline; rgr's baseline)
};

AdvantageKind advantageKindFromName(const std::string& name);  // throws TrainError naming it
std::string advantageKindName(AdvantageKind kind);

// Every kind needs 2 completions per group: with 1 the advantage is 0 by construction (grpo,
// dr_grpo) or undefined (rloo), so a step would train on nothing.
int minGroupSize(AdvantageKind kind);

struct AdvantageOptions {
    double std_eps = 1e-4;    // grpo's denominator guard (METHODS.md: std + 1e-4; rlpr: 1e-6)
    double zero_below = 0.0;  // grpo: advantages are 0 when std < zero_below (rlpr: 1e-6)
};

struct GroupAdvantages {
    std::vector<double> advantages;  // one per completion, in the group's order
    double mean = 0.0;               // mean reward of the group
    double std = 0.0;                // sample std (n - 1) of the group's rewards; 0 when n < 2
    bool zero_std = false;           // all rewards equal (std < 1e-12): no learning signal
};

// rewards: the group's totals in sample order. Throws TrainError when rewards.size() is below
// minGroupSize(kind).
GroupAdvantages groupAdvantages(const std::vector<double>& rewards, AdvantageKind kind,
                                const AdvantageOptions& options = {});

}  // namespace reflab::train
