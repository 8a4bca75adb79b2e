// bf16 kernels on a vector exp (see exp_kernels.h). Compiled with -ffast-math and without the
// LibTorch precompiled header (core/CMakeLists.txt): the loops below are `omp simd` loops whose
// std::exp GCC turns into libmvec's _ZGVeN16v_expf. Every value is finite (bf16 logits and
// activations), which -ffast-math assumes; no infinity appears even as a starting value.
#include "core/model/exp_kernels.h"

#include "core/base/bf16_bits.h"
#include "core/base/cpu_features.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace reflab::model {

namespace {

using reflab::bf16BitsToFloat;
using reflab::floatToBf16Bits;

REFLAB_AVX512_TARGET void statsOfRow(const uint16_t* z, int64_t V, int64_t target, float* lse,
                                     float* logprob, float* entropy) {
    float m = bf16BitsToFloat(z[0]);
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < V; ++j) m = std::max(m, bf16BitsToFloat(z[j]));
    // s = sum e^(z - m), t = sum e^(z - m) (z - m): lse = m + log s, entropy = log s - t / s.
    float s = 0.0f, t = 0.0f;
    if (entropy) {
#pragma omp simd reduction(+ : s, t)
        for (int64_t j = 0; j < V; ++j) {
            const float d = bf16BitsToFloat(z[j]) - m;
            const float e = std::exp(d);
            s += e;
            t += e * d;
        }
    } else {
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < V; ++j) s += std::exp(bf16BitsToFloat(z[j]) - m);
    }
    const float log_s = std::log(s);
    *lse = m + log_s;
    *logprob = bf16BitsToFloat(z[target]) - *lse;
    if (entropy) *entropy = log_s - t / s;
}

REFLAB_AVX512_TARGET void gradOfRow(uint16_t* z, int64_t V, int64_t target, float lse, float g) {
    const float p_target = std::exp(bf16BitsToFloat(z[target]) - lse);
#pragma omp simd
    for (int64_t j = 0; j < V; ++j)
        z[j] = floatToBf16Bits(-g * std::exp(bf16BitsToFloat(z[j]) - lse));
    z[target] = floatToBf16Bits(g * (1.0f - p_target));
}

// One row of the fused sampler (float32SampleRows): max, the two exp sums and the entropy sum
// in one vector pass that keeps e^((x - m) / T) in `w`, then the inverse-CDF scan over `w`.
REFLAB_AVX512_TARGET void sampleRow(const float* x, int64_t V, float inv_t, float u, float* w,
                                    int64_t* token, float* logprob, float* entropy) {
    float m = x[0];
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < V; ++j) m = std::max(m, x[j]);
    // s1 = sum e^(x - m) (temperature 1: the stored log-prob), t = sum e^(x - m) (x - m) (its
    // entropy), sT = sum e^((x - m) / T) (the sampling distribution).
    float s1 = 0.0f, t = 0.0f, sT = 0.0f;
    if (inv_t == 1.0f) {
#pragma omp simd reduction(+ : s1, t)
        for (int64_t j = 0; j < V; ++j) {
            const float d = x[j] - m, e = std::exp(d);
            w[j] = e;
            s1 += e;
            t += e * d;
        }
        sT = s1;
    } else {
#pragma omp simd reduction(+ : s1, t, sT)
        for (int64_t j = 0; j < V; ++j) {
            const float d = x[j] - m, e = std::exp(d), eT = std::exp(d * inv_t);
            w[j] = eT;
            s1 += e;
            t += e * d;
            sT += eT;
        }
    }
    // The first token whose cumulative mass exceeds u of the whole (never a zero-mass token);
    // the sums above and this scan add in different orders, so the last token takes any rest.
    // The scan adds in double: a float running sum over 150k terms drifts by ~1e-4 of the mass,
    // enough to move a draw across a flat stretch of the distribution by dozens of tokens.
    const double target = static_cast<double>(u) * sT;
    double cum = 0.0;
    int64_t k = 0;
    for (; k < V - 1; ++k) {
        cum += w[k];
        if (cum > target && w[k] > 0.0f) break;
    }
    const float log_s1 = std::log(s1);
    *token = k;
    *logprob = x[k] - m - log_s1;
    if (entropy) *entropy = log_s1 - t / s1;
}

// Elements per parallel block of the element-wise kernels.
constexpr int64_t kBlock = 1 << 14;

REFLAB_AVX512_TARGET void siluMulRange(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t a,
                                       int64_t b) {
#pragma omp simd
    for (int64_t i = a; i < b; ++i) {
        const float x = bf16BitsToFloat(g[i]);
        const float act = bf16BitsToFloat(floatToBf16Bits(x / (1.0f + std::exp(-x))));
        y[i] = floatToBf16Bits(act * bf16BitsToFloat(u[i]));
    }
}

REFLAB_AVX512_TARGET void siluMulBackwardRange(const uint16_t* g, const uint16_t* u,
                                               const uint16_t* dy, uint16_t* dg, uint16_t* du,
                                               int64_t a, int64_t b) {
#pragma omp simd
    for (int64_t i = a; i < b; ++i) {
        const float x = bf16BitsToFloat(g[i]), d = bf16BitsToFloat(dy[i]);
        const float s = 1.0f / (1.0f + std::exp(-x));
        du[i] = floatToBf16Bits(d * bf16BitsToFloat(floatToBf16Bits(x * s)));
        dg[i] = floatToBf16Bits(d * bf16BitsToFloat(u[i]) * s * (1.0f + x * (1.0f - s)));
    }
}

}  // namespace

void bf16SiluMul(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n) {
#pragma omp parallel for schedule(static)
    for (int64_t a = 0; a < n; a += kBlock) siluMulRange(g, u, y, a, std::min(n, a + kBlock));
}

void bf16SiluMulBackward(const uint16_t* g, const uint16_t* u, const uint16_t* dy, uint16_t* dg,
                         uint16_t* du, int64_t n) {
#pragma omp parallel for schedule(static)
    for (int64_t a = 0; a < n; a += kBlock)
        siluMulBackwardRange(g, u, dy, dg, du, a, std::min(n, a + kBlock));
}

bool expKernelsAvailable() {
    return cpuHasAvx512();
}

void bf16LogSoftmaxRowStats(const uint16_t* z, int64_t rows, int64_t V, const int64_t* target,
                            float* lse, float* logprob, float* entropy) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r)
        statsOfRow(z + r * V, V, target[r], lse + r, logprob + r, entropy ? entropy + r : nullptr);
}

void float32SampleRows(const float* x, int64_t rows, int64_t V, float temperature, const float* u,
                       int64_t* token, float* logprob, float* entropy) {
    const float inv_t = 1.0f / temperature;
#pragma omp parallel
    {
        std::vector<float> w(static_cast<size_t>(V));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r)
            sampleRow(x + r * V, V, inv_t, u[r], w.data(), token + r, logprob + r,
                      entropy ? entropy + r : nullptr);
    }
}

void bf16LogprobGradInPlace(uint16_t* z, int64_t rows, int64_t V, const int64_t* target,
                            const float* lse, const float* g) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) gradOfRow(z + r * V, V, target[r], lse[r], g[r]);
}

}  // namespace reflab::model
