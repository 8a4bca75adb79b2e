// Fused AdamW for bf16 parameters with packed fp32 masters (see adamw_bf16.h).
#include "core/train/adamw_bf16.h"

#include "core/base/cpu_features.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>

namespace reflab::train {

namespace {
// Elements per parallel task: large enough that a thread hand-off is noise, small enough that
// both cores get work on the small tensors (norm weights, biases).
constexpr int64_t kGrain = 1 << 16;

// Plain float arithmetic in torch's order: each element gets exactly the operations
// torch::optim::AdamW applies. This file is compiled with -fno-math-errno (core/CMakeLists.txt):
// sqrt of a non-negative value never sets errno, and without the flag GCC keeps an errno branch
// per element that stops the loop from vectorising (an optimize() attribute does not reach a
// target_clones function). Cloned for AVX-512 (picked at load time where the CPU has it). The
// scalars are copied to locals and the pointers are restrict, so that no store to m or v can
// change them: together, 16 lanes instead of a scalar loop at ~11 cycles per element.
REFLAB_AVX512_CLONES void updateRange(uint16_t* __restrict hi, uint16_t* __restrict lo,
                                      const uint16_t* __restrict g16, float* __restrict m,
                                      float* __restrict v, int64_t a, int64_t b,
                                      const AdamWScalars& s) {
    const float grad_scale = s.grad_scale, decay = s.decay, beta1 = s.beta1,
                one_minus_beta1 = s.one_minus_beta1, beta2 = s.beta2,
                one_minus_beta2 = s.one_minus_beta2, bc2_sqrt = s.bias_correction2_sqrt,
                eps = s.eps, neg_step_size = s.neg_step_size;
#pragma omp simd
    for (int64_t i = a; i < b; ++i) {
        float w = __builtin_bit_cast(float, (static_cast<uint32_t>(hi[i]) << 16) | lo[i]);
        const float g = __builtin_bit_cast(float, static_cast<uint32_t>(g16[i]) << 16) * grad_scale;
        w *= decay;
        const float mi = m[i] * beta1 + g * one_minus_beta1;
        const float vi = v[i] * beta2 + (g * g) * one_minus_beta2;
        const float denom = __builtin_sqrtf(vi) / bc2_sqrt + eps;
        w += neg_step_size * (mi / denom);
        m[i] = mi;
        v[i] = vi;
        const uint32_t bits = __builtin_bit_cast(uint32_t, w);
        hi[i] = static_cast<uint16_t>(bits >> 16);
        lo[i] = static_cast<uint16_t>(bits & 0xFFFF);
    }
}
// float -> bf16 bits, rounded to nearest, ties to even (c10::BFloat16's rounding, NaN kept a
// quiet NaN): adding 0x7FFF plus the kept half's lowest bit carries into the high half exactly
// when the dropped half is above the midpoint, or at it with an odd high half.
inline uint16_t roundToBf16(float f) {
    const uint32_t bits = __builtin_bit_cast(uint32_t, f);
    const uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    return f != f ? uint16_t{0x7FC0} : static_cast<uint16_t>(rounded);
}

// updateRange with bf16 moments: the same float arithmetic on the moments widened to float;
// the new moments are stored rounded (the update itself uses the unrounded float values).
REFLAB_AVX512_CLONES void updateRangeBf16Moments(uint16_t* __restrict hi, uint16_t* __restrict lo,
                                                 const uint16_t* __restrict g16,
                                                 uint16_t* __restrict m, uint16_t* __restrict v,
                                                 int64_t a, int64_t b, const AdamWScalars& s) {
    const float grad_scale = s.grad_scale, decay = s.decay, beta1 = s.beta1,
                one_minus_beta1 = s.one_minus_beta1, beta2 = s.beta2,
                one_minus_beta2 = s.one_minus_beta2, bc2_sqrt = s.bias_correction2_sqrt,
                eps = s.eps, neg_step_size = s.neg_step_size;
#pragma omp simd
    for (int64_t i = a; i < b; ++i) {
        float w = __builtin_bit_cast(float, (static_cast<uint32_t>(hi[i]) << 16) | lo[i]);
        const float g = __builtin_bit_cast(float, static_cast<uint32_t>(g16[i]) << 16) * grad_scale;
        const float m0 = __builtin_bit_cast(float, static_cast<uint32_t>(m[i]) << 16);
        const float v0 = __builtin_bit_cast(float, static_cast<uint32_t>(v[i]) << 16);
        w *= decay;
        const float mi = m0 * beta1 + g * one_minus_beta1;
        const float vi = v0 * beta2 + (g * g) * one_minus_beta2;
        const float denom = __builtin_sqrtf(vi) / bc2_sqrt + eps;
        w += neg_step_size * (mi / denom);
        m[i] = roundToBf16(mi);
        v[i] = roundToBf16(vi);
        const uint32_t bits = __builtin_bit_cast(uint32_t, w);
        hi[i] = static_cast<uint16_t>(bits >> 16);
        lo[i] = static_cast<uint16_t>(bits & 0xFFFF);
    }
}
// Sum of squares of x[a, b) in float; `omp simd` lets the sum be split across vector lanes
// (a fixed order, so the same result whatever the thread count).
REFLAB_AVX512_CLONES float runOfSquares(const uint16_t* x, int64_t a, int64_t b) {
    float run = 0;
#pragma omp simd reduction(+ : run)
    for (int64_t i = a; i < b; ++i) {
        const float f = __builtin_bit_cast(float, static_cast<uint32_t>(x[i]) << 16);
        run += f * f;
    }
    return run;
}
REFLAB_AVX512_CLONES float runOfSquares(const float* x, int64_t a, int64_t b) {
    float run = 0;
#pragma omp simd reduction(+ : run)
    for (int64_t i = a; i < b; ++i) run += x[i] * x[i];
    return run;
}
}  // namespace

void adamwBf16LowBits(torch::Tensor& param, torch::Tensor& low, const torch::Tensor& grad,
                      torch::Tensor& exp_avg, torch::Tensor& exp_avg_sq, const AdamWScalars& s) {
    const auto md = exp_avg.scalar_type();
    TORCH_CHECK(param.scalar_type() == torch::kBFloat16 && low.scalar_type() == torch::kInt16 &&
                    grad.scalar_type() == torch::kBFloat16 &&
                    (md == torch::kFloat32 || md == torch::kBFloat16) &&
                    exp_avg_sq.scalar_type() == md,
                "adamwBf16LowBits: dtypes");
    TORCH_CHECK(param.is_contiguous() && low.is_contiguous() && grad.is_contiguous() &&
                    exp_avg.is_contiguous() && exp_avg_sq.is_contiguous(),
                "adamwBf16LowBits: tensors must be contiguous");
    const int64_t n = param.numel();
    TORCH_CHECK(
        low.numel() == n && grad.numel() == n && exp_avg.numel() == n && exp_avg_sq.numel() == n,
        "adamwBf16LowBits: sizes differ");
    auto* hi = reinterpret_cast<uint16_t*>(param.data_ptr());
    auto* lo = reinterpret_cast<uint16_t*>(low.data_ptr());
    const auto* g16 = reinterpret_cast<const uint16_t*>(grad.data_ptr());
    if (md == torch::kBFloat16) {
        auto* m = reinterpret_cast<uint16_t*>(exp_avg.data_ptr());
        auto* v = reinterpret_cast<uint16_t*>(exp_avg_sq.data_ptr());
        at::parallel_for(0, n, kGrain, [&](int64_t a, int64_t b) {
            updateRangeBf16Moments(hi, lo, g16, m, v, a, b, s);
        });
        return;
    }
    float* m = exp_avg.data_ptr<float>();
    float* v = exp_avg_sq.data_ptr<float>();
    at::parallel_for(0, n, kGrain,
                     [&](int64_t a, int64_t b) { updateRange(hi, lo, g16, m, v, a, b, s); });
}

double squaredNorm(const torch::Tensor& grad) {
    const torch::Tensor g = grad.scalar_type() == torch::kBFloat16
                                ? grad.contiguous()
                                : grad.to(torch::kFloat32).contiguous();
    const int64_t n = g.numel(), blocks = (n + kGrain - 1) / kGrain;
    // Float sums of short runs, added in double per block of kGrain elements, blocks summed in
    // order: accurate to ~1e-7, and the same whatever the thread count.
    std::vector<double> parts(static_cast<size_t>(blocks), 0.0);
    const bool bf16 = g.scalar_type() == torch::kBFloat16;
    const void* data = g.data_ptr();
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t blk = b0; blk < b1; ++blk) {
            const int64_t e = std::min(n, (blk + 1) * kGrain);
            double acc = 0;
            for (int64_t c = blk * kGrain; c < e; c += 256) {  // float runs of 256, in double
                const int64_t end = std::min(e, c + 256);
                acc += bf16 ? runOfSquares(static_cast<const uint16_t*>(data), c, end)
                            : runOfSquares(static_cast<const float*>(data), c, end);
            }
            parts[static_cast<size_t>(blk)] = acc;
        }
    });
    double total = 0;
    for (double x : parts) total += x;
    return total;
}

}  // namespace reflab::train
