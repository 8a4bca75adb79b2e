// Autograd-aware fused element-wise parts of the transformer (RMSNorm, rotary embedding, the
// SiLU-gated product) for CPU tensors. In eager LibTorch each is 6-10 small ops whose float32
// temporaries and dtype copies are saved for backward: in a bf16 training step they took more
// time than the matrix products. Here each is one pass forward and one pass backward.
//
// Forward values keep the rounding points of HF's eager modeling code (so logits agree with
// transformers as before); backward is the exact derivative of the unrounded function, computed
// in float32 and rounded once to the input dtype (what autograd through the eager ops gives,
// up to those intermediate roundings). Non-CPU tensors take the eager ops.
#pragma once
#include <torch/types.h>

namespace reflab::model {

// HF RMSNorm: w * to_dtype(x * rsqrt(mean(x^2, -1) + eps)), x (..., C), w (C).
torch::Tensor fusedRmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

// Rotate-half RoPE: x * cos + rotate_half(x) * sin with x (B, T, H, D) contiguous and cos/sin
// (B, T, D) (one table per position, shared by the heads) -> (B, T, H, D).
torch::Tensor fusedRope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// silu(gate) * up, both (..., I) contiguous.
torch::Tensor fusedSiluMul(const torch::Tensor& gate, const torch::Tensor& up);

// The MLP's down projection of that product, (silu(gate) * up) W^T (+ b), W (C, I). With
// autograd the product is not kept for backward but recomputed there from gate and up (one
// pass); without, it is projection(fusedSiluMul(gate, up), W, b).
torch::Tensor fusedSiluMulProjection(const torch::Tensor& gate, const torch::Tensor& up,
                                     const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace reflab::model
