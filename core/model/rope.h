// Rotary position embedding as Hugging Face computes it: rotate-half layout, inverse
// frequencies base^(-2i/D) in float32, optional Llama-3 frequency-dependent scaling.
#pragma once
#include <torch/types.h>

#include "core/model/model_config.h"

namespace reflab::model {

// (D/2) float32 inverse frequencies for `config` (Llama-3 rope_scaling applied when present).
torch::Tensor ropeInverseFrequencies(const ModelConfig& config);

struct RopeTables {
    torch::Tensor cos, sin;  // (B, 1, T, D) in the compute dtype, broadcast over heads
};

// cos/sin for integer `positions` (B, T); `inv_freq` (D/2) float32 on the same device.
RopeTables ropeTables(const torch::Tensor& positions, const torch::Tensor& inv_freq,
                      torch::Dtype dtype);

}  // namespace reflab::model
