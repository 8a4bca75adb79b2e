// Learning-rate schedule: linear warmup, then constant, cosine or linear decay. Steps are
// 0-based OPTIMIZER steps (mu per training step); the rate of step s is the one used by the
// s-th optimizer update.
#pragma once
#include <cstdint>
#include <string>

namespace reflab::train {

enum class LrDecay { Constant, Cosine, Linear };
// "constant" | "cosine" | "linear"; throws TrainError
LrDecay lrDecayFromName(const std::string& name);
std::string lrDecayName(LrDecay decay);

struct LrSchedule {
    double lr = 1e-5;  // peak rate
    int64_t warmup_steps =
        0;  // steps [0, warmup): lr * (s + 1) / warmup (never 0, unlike HF's s / warmup)
    LrDecay decay = LrDecay::Constant;
    int64_t total_steps = 1;    // the run's optimizer steps (cosine reaches the floor there)
    double min_lr_ratio = 0.0;  // cosine floor as a fraction of lr

    // With p = (s - warmup) / max(1, total_steps - warmup), clamped to [0, 1] and
    // min = lr * min_lr_ratio: cosine rate = min + (lr - min) * (1 + cos(pi p)) / 2,
    // linear rate = min + (lr - min) * (1 - p) (HF's get_linear_schedule_with_warmup at min 0).
    double at(int64_t step) const;
};

}  // namespace reflab::train
