// TrainError: what the training layer throws (bad algorithm options, group sizes, checkpoints,
// resume state). One sentence naming the field, file or step at fault, like every reflab::Error.
#pragma once
#include "core/base/error.h"

namespace reflab::train {

class TrainError : public reflab::Error {
public:
    explicit TrainError(const std::string& what) : reflab::Error(what) {}
};

}  // namespace reflab::train
