// Fused decode-step kernels (see decode_kernels.h).
#include "core/model/decode_kernels.h"

#include "core/base/bf16_bits.h"
#include "core/model/tensor_bits.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/model/bf16_dot.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/model/bf16_dot_simd.h"
#define REFLAB_HAVE_DECODE_KERNELS 1
#endif

namespace reflab::model {

namespace {
inline uint16_t toBf16(float f) {
    return c10::BFloat16(f).x;
}  // round to nearest even
inline float roundBf16(float f) {
    return bf16BitsToFloat(toBf16(f));
}

void checkBf16(const torch::Tensor& t, const char* what) {
    TORCH_CHECK(t.scalar_type() == torch::kBFloat16 && t.is_contiguous() && t.device().is_cpu(),
                what, ": expected a contiguous bfloat16 CPU tensor");
}
}  // namespace

bool decodeKernelsAvailable() {
    return bf16DotInUse() != Bf16Dot::None;
}

torch::Tensor rmsNormRows(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    checkBf16(x, "rmsNormRows x");
    checkBf16(weight, "rmsNormRows weight");
    const int64_t C = x.size(-1), M = x.numel() / C;
    torch::Tensor out = torch::empty_like(x);
    const uint16_t* xp = bf16Data(x);
    const uint16_t* wp = bf16Data(weight);
    uint16_t* op = mutableBf16Data(out);
    const float feps = static_cast<float>(eps);
    for (int64_t m = 0; m < M; ++m) {
        const uint16_t* row = xp + m * C;
        float sum = 0;
        for (int64_t c = 0; c < C; ++c) sum += bf16BitsToFloat(row[c]) * bf16BitsToFloat(row[c]);
        const float scale = 1.0f / std::sqrt(sum / static_cast<float>(C) + feps);
        for (int64_t c = 0; c < C; ++c)
            op[m * C + c] =
                toBf16(bf16BitsToFloat(wp[c]) * roundBf16(bf16BitsToFloat(row[c]) * scale));
    }
    return out;
}

void ropeRowsInPlace(torch::Tensor& x, int64_t heads, const torch::Tensor& cos,
                     const torch::Tensor& sin) {
    checkBf16(x, "ropeRowsInPlace x");
    checkBf16(cos, "ropeRowsInPlace cos");
    checkBf16(sin, "ropeRowsInPlace sin");
    const int64_t B = x.size(0), D = cos.size(-1), half = D / 2;
    TORCH_CHECK(x.numel() == B * heads * D && cos.numel() == B * D, "ropeRowsInPlace: bad shapes");
    uint16_t* xp = mutableBf16Data(x);
    std::vector<float> head(static_cast<size_t>(D));
    for (int64_t b = 0; b < B; ++b) {
        const uint16_t* c = bf16Data(cos) + b * D;
        const uint16_t* s = bf16Data(sin) + b * D;
        for (int64_t h = 0; h < heads; ++h) {
            uint16_t* v = xp + (b * heads + h) * D;
            for (int64_t d = 0; d < D; ++d) head[d] = bf16BitsToFloat(v[d]);
            for (int64_t d = 0; d < D; ++d) {
                const float rotated = d < half ? -head[d + half] : head[d - half];
                v[d] = toBf16(roundBf16(head[d] * bf16BitsToFloat(c[d])) +
                              roundBf16(rotated * bf16BitsToFloat(s[d])));
            }
        }
    }
}

#ifdef REFLAB_HAVE_DECODE_KERNELS
namespace {
// The attention kernel once per dot policy (see decode_attention_kernel.inc).
namespace attention_native {
using Dot = NativeDot;
#define REFLAB_KERNEL_TARGET REFLAB_BF16_NATIVE_TARGET
#include "core/model/decode_attention_kernel.inc"
#undef REFLAB_KERNEL_TARGET
}  // namespace attention_native

namespace attention_emulated {
using Dot = EmulatedDot;
#define REFLAB_KERNEL_TARGET REFLAB_BF16_EMULATED_TARGET
#include "core/model/decode_attention_kernel.inc"
#undef REFLAB_KERNEL_TARGET
}  // namespace attention_emulated
}  // namespace

torch::Tensor decodeAttention(const torch::Tensor& q, const torch::Tensor& k,
                              const torch::Tensor& v, LayerCache& cache, int64_t start,
                              const torch::Tensor& key_valid, int64_t heads, int64_t kv_heads) {
    checkBf16(q, "decodeAttention q");
    checkBf16(k, "decodeAttention k");
    checkBf16(v, "decodeAttention v");
    checkBf16(cache.k, "decodeAttention cache");
    checkBf16(cache.v, "decodeAttention cache");
    const int64_t B = q.size(0), Tmax = cache.k.size(2), D = cache.k.size(3), L = start + 1;
    TORCH_CHECK(D <= 256 && start < Tmax && key_valid.size(1) >= L && key_valid.is_contiguous() &&
                    key_valid.scalar_type() == torch::kBool,
                "decodeAttention: bad shapes");
    uint16_t* kc = mutableBf16Data(cache.k);
    uint16_t* vc = mutableBf16Data(cache.v);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t g = 0; g < kv_heads; ++g) {
            const int64_t dst = ((b * kv_heads + g) * Tmax + start) * D;
            std::memcpy(kc + dst, bf16Data(k) + (b * kv_heads + g) * D, static_cast<size_t>(D) * 2);
            std::memcpy(vc + dst, bf16Data(v) + (b * kv_heads + g) * D, static_cast<size_t>(D) * 2);
        }
    torch::Tensor out = torch::empty({B, heads * D}, q.options());
    uint16_t* op = mutableBf16Data(out);
    const bool* valid = key_valid.data_ptr<bool>();
    const int64_t stride_valid = key_valid.size(1);
    const int64_t group = heads / kv_heads;
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
    const Bf16Dot dot = bf16DotInUse();
    TORCH_CHECK(dot != Bf16Dot::None, "decodeAttention: this CPU has no AVX-512");
    const auto attend =
        dot == Bf16Dot::Native ? attention_native::attendOne : attention_emulated::attendOne;
    at::parallel_for(0, B * heads, 4, [&](int64_t i0, int64_t i1) {
        std::vector<float> scores(static_cast<size_t>(L)), acc(static_cast<size_t>(D));
        for (int64_t i = i0; i < i1; ++i) {
            const int64_t b = i / heads, h = i % heads, g = h / group;
            const int64_t base = (b * kv_heads + g) * Tmax * D;
            attend(bf16Data(q) + i * D, kc + base, vc + base, valid + b * stride_valid, L, D, scale,
                   scores.data(), acc.data(), op + i * D);
        }
    });
    return out;
}

#else

torch::Tensor decodeAttention(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                              LayerCache&, int64_t, const torch::Tensor&, int64_t, int64_t) {
    TORCH_CHECK(false, "decodeAttention is not available on this platform");
}

#endif

}  // namespace reflab::model
