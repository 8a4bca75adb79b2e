// Log-probabilities of chosen tokens (and the entropy of each next-token distribution) from
// the final hidden states, the lm_head part of teacher-forced scoring: log_softmax(h W^T)
// gathered at the targets, with autograd when h or W needs a gradient.
// On a CPU with AVX-512 and bf16 weights the (N, vocab) logits stay in bf16 and every row is
// one fused pass forward and one in place backward (exp_kernels.h); elsewhere (CUDA, float32)
// it is log_softmax + gather. Both give the same numbers up to float32 summation order.
#pragma once
#include <torch/types.h>

namespace reflab::model {

struct TokenLogprobs {
    torch::Tensor logprobs;  // (N) float32: log p(target_n | h_n)
    torch::Tensor entropy;   // (N) float32 when asked for; a statistic, never differentiated
};

// hidden (N, C), weight (V, C) of the lm_head, targets (N) int64 in [0, V).
TokenLogprobs tokenLogprobs(const torch::Tensor& hidden, const torch::Tensor& weight,
                            const torch::Tensor& targets, bool entropy);

}  // namespace reflab::model
