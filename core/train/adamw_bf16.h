// One fused pass of AdamW over a bfloat16 parameter whose fp32 master is its bf16 high half plus
// an int16 tensor of the low halves (optimizer.h). The torch-op version of the same update made
// about twenty passes over fp32 temporaries per chunk; this reads each of param, low bits,
// grad, m and v once and writes them once (26 bytes per parameter), which turns the optimizer
// of a 0.5B model from seconds into a fraction of one.
#pragma once
#include <cstdint>

#include <torch/types.h>

namespace reflab::train {

// The step's scalars, already in the float32 they are applied in (torch's AdamW order:
// decay, moments, bias-corrected denominator, update).
struct AdamWScalars {
    float decay;  // 1 - lr * weight_decay
    float beta1, one_minus_beta1;
    float beta2, one_minus_beta2;
    float bias_correction2_sqrt;
    float eps;
    float neg_step_size;  // -lr / (1 - beta1^t)
    float grad_scale;     // gradient clipping coefficient (1: none)
};

// Updates param (bf16), low (int16), exp_avg, exp_avg_sq in place from grad (bf16); all
// contiguous with the same number of elements. The moments are both float32, or both bfloat16
// (optimizer_moments "bf16": read into float32, the update computed in float32 as above, the new
// moments stored rounded to the nearest bf16, ties to even: 22 bytes per parameter, not 26).
void adamwBf16LowBits(torch::Tensor& param, torch::Tensor& low, const torch::Tensor& grad,
                      torch::Tensor& exp_avg, torch::Tensor& exp_avg_sq, const AdamWScalars& s);

// sum(grad^2) of a bf16 or float32 gradient, accumulated in double across chunks.
double squaredNorm(const torch::Tensor& grad);

}  // namespace reflab::train
