// Fused CPU kernels for one decode step (one new token per row, bfloat16, no autograd): the
// few-token step is dominated by per-op overhead in eager LibTorch (about 45 small ops per
// layer), so the norms, the rotary embedding and the cached attention are one pass each here.
// Each kernel reproduces the rounding points of the eager path (HF's modeling code), so the
// decode step agrees with a full forward within bfloat16 rounding.
#pragma once
#include <torch/types.h>

#include "core/model/transformer_layers.h"

namespace reflab::model {

// True when the fused decode step can run on this CPU: bf16DotInUse() is Native (AVX512-BF16)
// or Emulated (AVX-512 F/BW/DQ/VL), see bf16_dot.h. The emulated dot exists so that hosts whose
// hypervisor masks AVX512-BF16 still take the fused step and decode at memory speed.
bool decodeKernelsAvailable();

// HF RMSNorm of each row: bf16(w * bf16(x * rsqrt(mean(x^2) + eps))), x (M, C) bf16
// contiguous, w (C) bf16 -> (M, C) bf16.
torch::Tensor rmsNormRows(const torch::Tensor& x, const torch::Tensor& weight, double eps);

// Rotate-half RoPE in place on x (B, H * D) bf16, one position per row: cos/sin (B, D) bf16
// (the tables ropeTables() makes). x = bf16(bf16(x * cos) + bf16(rotate_half(x) * sin)).
void ropeRowsInPlace(torch::Tensor& x, int64_t heads, const torch::Tensor& cos,
                     const torch::Tensor& sin);

// One query per row against the cache: writes k, v (B, Hkv * D) at cache position `start`, then
// attends q (B, H * D) over positions [0, start] where key_valid (B, >= start + 1) bool is
// true. Grouped-query: query head h reads kv head h / (H / Hkv). -> (B, H * D) bf16.
torch::Tensor decodeAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, LayerCache& cache, int64_t start,
                              const torch::Tensor& key_valid, int64_t heads, int64_t kv_heads);

}  // namespace reflab::model
