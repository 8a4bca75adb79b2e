// Learning-rate schedule: warmup + constant / cosine.
#include "core/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/train/train_error.h"

namespace reflab::train {

LrDecay lrDecayFromName(const std::string& name) {
    if (name == "constant") return LrDecay::Constant;
    if (name == "cosine") return LrDecay::Cosine;
    if (name == "linear") return LrDecay::Linear;
    throw TrainError("algorithm.lr_schedule: unknown schedule '" + name +
                     "' (expected constant, cosine or linear)");
}

std::string lrDecayName(LrDecay decay) {
    switch (decay) {
        case LrDecay::Cosine:
            return "cosine";
        case LrDecay::Linear:
            return "linear";
        case LrDecay::Constant:
            break;
    }
    return "constant";
}

double LrSchedule::at(int64_t step) const {
    if (step < warmup_steps)
        return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
    if (decay == LrDecay::Constant) return lr;
    const double span = static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
    const double p = std::clamp(static_cast<double>(step - warmup_steps) / span, 0.0, 1.0);
    const double floor = lr * min_lr_ratio;
    if (decay == LrDecay::Linear) return floor + (lr - floor) * (1.0 - p);
    return floor + (lr - floor) * 0.5 * (1.0 + std::cos(M_PI * p));
}

}  // namespace reflab::train
