// Group advantages: grpo (with std), dr_grpo (without), rloo (leave-one-out).
#include "core/train/advantages.h"

#include <tuple>

#include "core/base/stats.h"

#include "core/train/train_error.h"

namespace reflab::train {

AdvantageKind advantageKindFromName(const std::string& name) {
    if (name == "grpo") return AdvantageKind::Grpo;
    if (name == "dr_grpo") return AdvantageKind::DrGrpo;
    if (name == "rloo") return AdvantageKind::Rloo;
    throw TrainError("algorithm.advantage: unknown advantage '" + name +
                     "' (expected grpo, dr_grpo or rloo)");
}

std::string advantageKindName(AdvantageKind kind) {
    switch (kind) {
        case AdvantageKind::Grpo:
            return "grpo";
        case AdvantageKind::DrGrpo:
            return "dr_grpo";
        case AdvantageKind::Rloo:
            return "rloo";
    }
    return "?";
}

int minGroupSize(AdvantageKind) {
    return 2;
}

GroupAdvantages groupAdvantages(const std::vector<double>& rewards, AdvantageKind kind,
                                const AdvantageOptions& options) {
    const size_t n = rewards.size();
    if (n < static_cast<size_t>(minGroupSize(kind)))
        throw TrainError("generation.group_size: advantage '" + advantageKindName(kind) +
                         "' needs at least " + std::to_string(minGroupSize(kind)) +
                         " completions per prompt, got " + std::to_string(n));
    GroupAdvantages out;
    std::tie(out.mean, out.std) = meanStd(rewards, /*ddof=*/1);  // the sample std, as torch.std
    out.zero_std = out.std < 1e-12;
    if (kind == AdvantageKind::Rloo) {
        out.advantages = rlooAdvantages(rewards);
        return out;
    }
    out.advantages.resize(n);
    for (size_t i = 0; i < n; ++i) {
        switch (kind) {
            case AdvantageKind::Grpo:
                out.advantages[i] = out.std < options.zero_below
                                        ? 0.0
                                        : (rewards[i] - out.mean) / (out.std + options.std_eps);
                break;
            case AdvantageKind::DrGrpo:
                out.advantages[i] = rewards[i] - out.mean;
                break;
            case AdvantageKind::Rloo:  // returned above
                break;
        }
    }
    return out;
}

}  // namespace reflab::train
