// FLOPs of what the model computes, as the benchmarks report them: 2 per multiply-add of every
// weight matrix a token passes through, and the lm_head (vocab x hidden, the largest matrix of
// a small model) only on the positions whose next-token distribution is used: scoring and the
// policy-gradient loss run it on target positions only (scoring.h), so counting it on every
// token would credit the code with work it never does (issue 13: 3.04 TFLOP claimed for the
// train bench's step where 2.62 are computed). Attention's score and value products (4 T h per
// token per layer) are left out, as in the usual 6 N D count: under 1% at these lengths.
#pragma once
#include <cstdint>

#include "core/model/model_config.h"

namespace reflab::model {

// The decoder layers and the final norm: every weight a token's hidden state passes through
// except the embedding lookup (a row read, no arithmetic) and the lm_head.
int64_t bodyParameters(const ModelConfig& config);
// vocab x hidden, whether tied to the embedding or not.
int64_t lmHeadParameters(const ModelConfig& config);

// One forward over `tokens` positions of which `lm_head_positions` run the lm_head:
// 2 (body x tokens + lm_head x lm_head_positions).
double forwardFlops(const ModelConfig& config, double tokens, double lm_head_positions);
// Forward + backward (input and weight gradients): 3 x forwardFlops.
double trainFlops(const ModelConfig& config, double tokens, double lm_head_positions);

}  // namespace reflab::model
