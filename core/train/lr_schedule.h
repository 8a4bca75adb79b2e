// Learning-rate schedule: linear warmup, then constant or cosine decay. Steps are 0-based
// optimizer steps; the rate of step s is the one used by the s-th optimizer update.
#pragma once
#include <cstdint>
#include <string>

namespace reflab::train {

enum class LrDecay { Constant, Cosine };
LrDecay lrDecayFromName(const std::string& name);  // "constant" | "cosine"; throws TrainError
std::string lrDecayName(LrDecay decay);

struct LrSchedule {
    double lr = 1e-5;  // peak rate
    int64_t warmup_steps =
        0;  // steps [0, warmup): lr * (s + 1) / warmup (never 0, unlike HF's s / warmup)
    LrDecay decay = LrDecay::Constant;
    int64_t total_steps = 1;    // the run's optimizer steps (cosine reaches the floor there)
    double min_lr_ratio = 0.0;  // cosine floor as a fraction of lr

    // Cosine: with p = (s - warmup) / max(1, total_steps - warmup), clamped to [0, 1],
    // rate = min + (lr - min) * (1 + cos(pi p)) / 2, min = lr * min_lr_ratio.
    double at(int64_t step) const;
};

}  // namespace reflab::train
