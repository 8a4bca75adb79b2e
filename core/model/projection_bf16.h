// A bfloat16 matrix-vector kernel for the decode steps (few rows of x against a large weight):
// streams each weight row once with bf16 dot products straight from the row-major (out, in)
// layout. oneDNN instead repacks the weight into its blocked layout on every call, which
// triples the memory traffic of a bandwidth-bound decode step. The dot is AVX512-BF16's
// vdpbf16ps where the CPU has it, else the same sums from AVX-512 F/BW/DQ/VL (bf16_dot.h): hosts
// whose hypervisor masks AVX512-BF16 still decode at memory speed instead of falling back to
// oneDNN's emulated bf16.
#pragma once
#include <vector>

#include <torch/types.h>

#include "core/model/bf16_dot.h"

namespace reflab::model {

// True when the kernel runs here: bf16DotInUse() is Native or Emulated (AVX-512 F/BW/DQ/VL at
// least; a test may force None).
bool bf16GemvAvailable();

// The most rows of x the kernel takes (the trainer decodes prompts_per_step x G rows at once).
constexpr int64_t kGemvMaxRows = 64;

// y = x W^T (+ b) for bf16 CPU tensors: x (M, K) contiguous with M <= kGemvMaxRows, W (N, K)
// contiguous,
// b (N) or undefined -> (M, N) bf16. Sums in float32, rounded once at the end. No autograd.
// Runs on bf16DotInUse(). Preconditions (checked by the caller, projection()):
// bf16GemvAvailable().
torch::Tensor bf16Gemv(const torch::Tensor& x, const torch::Tensor& weight,
                       const torch::Tensor& bias);

// One weight (and optional bias) of a group of projections that share their input.
struct GemvWeight {
    const torch::Tensor* weight;  // (N_i, K)
    const torch::Tensor* bias;    // (N_i) or nullptr / undefined
};

// The projections of one input in ONE parallel pass (q/k/v, or gate/up): every thread streams
// its share of all the weights, so small projections do not each pay a thread hand-off.
// x (M, K) -> one (M, N_i) per weight.
std::vector<torch::Tensor> bf16GemvMany(const torch::Tensor& x,
                                        const std::vector<GemvWeight>& weights);

}  // namespace reflab::model
