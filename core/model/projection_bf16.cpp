// AVX512-BF16 small-M projection kernel (see projection_bf16.h).
#include "core/model/projection_bf16.h"

#include <ATen/Parallel.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define REFLAB_HAVE_BF16_KERNEL 1
#endif

namespace reflab::model {

#ifdef REFLAB_HAVE_BF16_KERNEL
namespace {

constexpr int kRowTile = 4;  // weight rows per inner step: 4 x M accumulators stay in registers

// Rows [n0, n1) of the output for MT rows of x starting at xm. K is the row length.
template <int MT>
__attribute__((target("avx512f,avx512bw,avx512bf16"))) void gemvTile(
    const uint16_t* x, int64_t K, const uint16_t* w, const uint16_t* bias, uint16_t* y, int64_t N,
    int64_t n0, int64_t n1) {
    const int64_t kfull = K / 32 * 32;
    const __mmask32 tail = static_cast<__mmask32>((K - kfull) == 0 ? 0 : ((1u << (K - kfull)) - 1));
    int64_t n = n0;
    for (; n + kRowTile <= n1; n += kRowTile) {
        __m512 acc[kRowTile][MT];
        for (int r = 0; r < kRowTile; ++r)
            for (int m = 0; m < MT; ++m) acc[r][m] = _mm512_setzero_ps();
        const uint16_t* wr = w + n * K;
        for (int64_t k = 0; k < kfull; k += 32) {
            __m512bh wv[kRowTile];
            for (int r = 0; r < kRowTile; ++r)
                wv[r] = (__m512bh)_mm512_loadu_si512(reinterpret_cast<const void*>(wr + r * K + k));
            for (int m = 0; m < MT; ++m) {
                const __m512bh xv = (__m512bh)_mm512_loadu_si512(reinterpret_cast<const void*>(x + m * K + k));
                for (int r = 0; r < kRowTile; ++r) acc[r][m] = _mm512_dpbf16_ps(acc[r][m], xv, wv[r]);
            }
        }
        if (tail) {
            __m512bh wv[kRowTile];
            for (int r = 0; r < kRowTile; ++r)
                wv[r] = (__m512bh)_mm512_maskz_loadu_epi16(tail, wr + r * K + kfull);
            for (int m = 0; m < MT; ++m) {
                const __m512bh xv = (__m512bh)_mm512_maskz_loadu_epi16(tail, x + m * K + kfull);
                for (int r = 0; r < kRowTile; ++r) acc[r][m] = _mm512_dpbf16_ps(acc[r][m], xv, wv[r]);
            }
        }
        for (int r = 0; r < kRowTile; ++r) {
            const float b = bias ? static_cast<float>(c10::BFloat16(bias[n + r], c10::BFloat16::from_bits())) : 0.0f;
            for (int m = 0; m < MT; ++m)
                y[m * N + n + r] = c10::BFloat16(_mm512_reduce_add_ps(acc[r][m]) + b).x;
        }
    }
    for (; n < n1; ++n) {  // leftover rows, one at a time
        const uint16_t* wr = w + n * K;
        for (int m = 0; m < MT; ++m) {
            __m512 acc = _mm512_setzero_ps();
            for (int64_t k = 0; k < kfull; k += 32)
                acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512(reinterpret_cast<const void*>(x + m * K + k)),
                                       (__m512bh)_mm512_loadu_si512(reinterpret_cast<const void*>(wr + k)));
            if (tail)
                acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_maskz_loadu_epi16(tail, x + m * K + kfull),
                                       (__m512bh)_mm512_maskz_loadu_epi16(tail, wr + kfull));
            const float b = bias ? static_cast<float>(c10::BFloat16(bias[n], c10::BFloat16::from_bits())) : 0.0f;
            y[m * N + n] = c10::BFloat16(_mm512_reduce_add_ps(acc) + b).x;
        }
    }
}

using TileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, const uint16_t*, uint16_t*, int64_t,
                        int64_t, int64_t);
const TileFn kTiles[4] = {gemvTile<1>, gemvTile<2>, gemvTile<3>, gemvTile<4>};

}  // namespace

bool bf16GemvAvailable() {
    static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512bf16");
    return ok;
}

torch::Tensor bf16Gemv(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    const int64_t M = x.size(0), K = x.size(1), N = weight.size(0);
    TORCH_CHECK(M <= 16 && weight.size(1) == K, "bf16Gemv: bad shapes");
    torch::Tensor y = torch::empty({M, N}, x.options());
    const auto* xp = reinterpret_cast<const uint16_t*>(x.data_ptr());
    const auto* wp = reinterpret_cast<const uint16_t*>(weight.data_ptr());
    const auto* bp = bias.defined() ? reinterpret_cast<const uint16_t*>(bias.data_ptr()) : nullptr;
    auto* yp = reinterpret_cast<uint16_t*>(y.data_ptr());
    // Threads split the weight rows (each streams its own contiguous block); grain keeps a
    // block of at least 64 rows so small projections do not pay for thread hand-off.
    at::parallel_for(0, (N + kRowTile - 1) / kRowTile, 16, [&](int64_t b0, int64_t b1) {
        const int64_t n1 = std::min(N, b1 * kRowTile);
        // Row tile outer, x tiles inner: each weight tile comes from memory once and is
        // reused from L1/L2 for every 4 rows of x.
        for (int64_t n = b0 * kRowTile; n < n1; n += kRowTile) {
            const int64_t ne = std::min(n1, n + kRowTile);
            for (int64_t m = 0; m < M; m += 4) {
                const int mt = static_cast<int>(std::min<int64_t>(4, M - m));
                kTiles[mt - 1](xp + m * K, K, wp, bp, yp + m * N, N, n, ne);
            }
        }
    });
    return y;
}

#else

bool bf16GemvAvailable() { return false; }
torch::Tensor bf16Gemv(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
    TORCH_CHECK(false, "bf16Gemv is not available on this platform");
}

#endif

}  // namespace reflab::model
