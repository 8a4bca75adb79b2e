// AVX512-BF16 small-M projection kernel (see projection_bf16.h).
#include "core/model/projection_bf16.h"

#include "core/base/bf16_bits.h"
#include "core/base/cpu_features.h"
#include "core/model/cpu_caches.h"

#include <ATen/Parallel.h>

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define REFLAB_HAVE_BF16_KERNEL 1
#endif

namespace reflab::model {

#ifdef REFLAB_HAVE_BF16_KERNEL
namespace {

// A tile is RT weight rows x MT rows of x = 16 float32 accumulators (half the register file),
// reduced together at the end by one 16-way transpose-add instead of 16 horizontal sums.
constexpr int kAccumulators = 16;

#define REFLAB_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512bf16")))

// Lane 4l + j of the result is the sum of the 16 lanes of v[4j + l] (a 4x4 transpose of the
// index): callers pass their accumulators in that order to get output p in lane p.
REFLAB_BF16_TARGET inline __m512 reduce16(const __m512 v[16]) {
    __m512 u[8], w[4], z[2];
    for (int i = 0; i < 8; ++i)  // 128-bit halves: [a0+a2, a1+a3, b0+b2, b1+b3]
        u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0x44),
                             _mm512_shuffle_f32x4(v[2 * i], v[2 * i + 1], 0xEE));
    for (int i = 0; i < 4; ++i)  // one 4-float partial of each of 4 vectors per 128-bit lane
        w[i] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], 0x88),
                             _mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], 0xDD));
    for (int i = 0; i < 2; ++i)
        z[i] = _mm512_add_ps(_mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0x44),
                             _mm512_shuffle_ps(w[2 * i], w[2 * i + 1], 0xEE));
    return _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], 0x88), _mm512_shuffle_ps(z[0], z[1], 0xDD));
}

// Rows [n, n + RT) of W against MT rows of x (row stride K) -> y rows (stride N).
template <int MT>
REFLAB_BF16_TARGET void fullTile(const uint16_t* x, int64_t K, const uint16_t* w,
                                 const uint16_t* bias, uint16_t* y, int64_t N, int64_t n,
                                 int64_t prefetch_ahead) {
    constexpr int RT = kAccumulators / MT;
    const int64_t kfull = K / 32 * 32;
    const __mmask32 tail = static_cast<__mmask32>((K - kfull) == 0 ? 0 : ((1u << (K - kfull)) - 1));
    __m512 acc[RT][MT];
    for (int r = 0; r < RT; ++r)
        for (int m = 0; m < MT; ++m) acc[r][m] = _mm512_setzero_ps();
    const uint16_t* wr = w + n * K;
    for (int64_t k = 0; k < kfull; k += 32) {
        __m512bh xv[MT];
        for (int m = 0; m < MT; ++m) xv[m] = (__m512bh)_mm512_loadu_si512(x + m * K + k);
        for (int r = 0; r < RT; ++r) {
            const __m512bh wv = (__m512bh)_mm512_loadu_si512(wr + r * K + k);
            // The rows `prefetch_ahead` further on, one line each step: ~16 KB in flight per
            // thread, so the dot products (not DRAM latency) set the pace. Into L2, not L1
            // (T2: 16 -> 21 GB/s at 8 rows of x): the L1 holds x and the lines being used.
            if (prefetch_ahead)
                _mm_prefetch(reinterpret_cast<const char*>(wr + (r + prefetch_ahead) * K + k),
                             _MM_HINT_T2);
            for (int m = 0; m < MT; ++m) acc[r][m] = _mm512_dpbf16_ps(acc[r][m], xv[m], wv);
        }
    }
    if (tail) {
        __m512bh xv[MT];
        for (int m = 0; m < MT; ++m)
            xv[m] = (__m512bh)_mm512_maskz_loadu_epi16(tail, x + m * K + kfull);
        for (int r = 0; r < RT; ++r) {
            const __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(tail, wr + r * K + kfull);
            for (int m = 0; m < MT; ++m) acc[r][m] = _mm512_dpbf16_ps(acc[r][m], xv[m], wv);
        }
    }
    // Output p = r * MT + m; reduce16 wants output p's accumulator at index transpose(p).
    __m512 in[16];
    for (int p = 0; p < 16; ++p) {
        const int q = (p % 4) * 4 + p / 4;
        in[q] = acc[p / MT][p % MT];
    }
    __m512 sums = reduce16(in);
    if constexpr (MT == 1) {  // 16 consecutive outputs of one row: one vector store
        if (bias) {
            const __m256i b16 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + n));
            sums = _mm512_add_ps(
                sums, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(b16), 16)));
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + n), (__m256i)_mm512_cvtneps_pbh(sums));
    } else {
        if (!bias) {
            alignas(32) uint16_t out[16];
            _mm256_store_si256(reinterpret_cast<__m256i*>(out), (__m256i)_mm512_cvtneps_pbh(sums));
            for (int p = 0; p < 16; ++p) y[(p % MT) * N + n + p / MT] = out[p];
        } else {
            alignas(64) float f[16];
            _mm512_store_ps(f, sums);
            for (int p = 0; p < 16; ++p)
                y[(p % MT) * N + n + p / MT] =
                    c10::BFloat16(f[p] + bf16BitsToFloat(bias[n + p / MT])).x;
        }
    }
}

// Rows [n0, n1) one at a time (the ragged end of a weight).
REFLAB_BF16_TARGET void rowsOneByOne(const uint16_t* x, int64_t M, int64_t K, const uint16_t* w,
                                     const uint16_t* bias, uint16_t* y, int64_t N, int64_t n0,
                                     int64_t n1) {
    const int64_t kfull = K / 32 * 32;
    const __mmask32 tail = static_cast<__mmask32>((K - kfull) == 0 ? 0 : ((1u << (K - kfull)) - 1));
    for (int64_t n = n0; n < n1; ++n) {
        const uint16_t* wr = w + n * K;
        for (int64_t m = 0; m < M; ++m) {
            __m512 acc = _mm512_setzero_ps();
            for (int64_t k = 0; k < kfull; k += 32)
                acc = _mm512_dpbf16_ps(acc, (__m512bh)_mm512_loadu_si512(x + m * K + k),
                                       (__m512bh)_mm512_loadu_si512(wr + k));
            if (tail)
                acc = _mm512_dpbf16_ps(acc,
                                       (__m512bh)_mm512_maskz_loadu_epi16(tail, x + m * K + kfull),
                                       (__m512bh)_mm512_maskz_loadu_epi16(tail, wr + kfull));
            const float b = bias ? bf16BitsToFloat(bias[n]) : 0.0f;
            y[m * N + n] = c10::BFloat16(_mm512_reduce_add_ps(acc) + b).x;
        }
    }
}

// One projection's view for the kernels: raw pointers and sizes.
struct Job {
    const uint16_t* w;
    const uint16_t* bias;
    uint16_t* y;  // (Mp, N) padded output
    int64_t N;
    int64_t tiles;  // ceil(N / RT)
};

template <int MT>
void runTiles(const uint16_t* x, int64_t Mp, int64_t K, const std::vector<Job>& jobs) {
    constexpr int RT = kAccumulators / MT;
    std::vector<int64_t> first{0};  // first global tile of each job
    for (const Job& j : jobs) first.push_back(first.back() + j.tiles);
    // Threads take contiguous runs of tiles (each streams its own block of memory); a grain of
    // 8 tiles keeps tiny projections from paying for a thread hand-off per tile. The prefetch
    // distance follows the L2 size (cpu_caches.h), rounded to whole tiles.
    const int64_t ahead = RT * std::max<int64_t>(1, prefetchAheadBytes() / (RT * K * 2));  // rows
    at::parallel_for(0, first.back(), 8, [&](int64_t t0, int64_t t1) {
        size_t j = 0;
        for (int64_t t = t0; t < t1;) {
            while (first[j + 1] <= t) ++j;
            const Job& job = jobs[j];
            const int64_t end = std::min(t1, first[j + 1]);
            {  // the first rows of this run are not covered by any tile's prefetch
                const int64_t n0 = (t - first[j]) * RT;
                const char* p = reinterpret_cast<const char*>(job.w + n0 * K);
                const int64_t bytes = std::min(ahead, job.N - n0) * K * 2;
                for (int64_t b = 0; b < bytes; b += 64) _mm_prefetch(p + b, _MM_HINT_T0);
            }
            for (; t < end; ++t) {
                const int64_t n = (t - first[j]) * RT;
                const int64_t tile_end = (end - first[j]) * RT;  // this run's last row + 1
                if (n + RT <= job.N) {
                    // The first slice of x prefetches the next rows; the later ones find
                    // this tile's rows in L1.
                    const int64_t a = n + ahead + RT <= std::min(job.N, tile_end) ? ahead : 0;
                    for (int64_t m = 0; m < Mp; m += MT)
                        fullTile<MT>(x + m * K, K, job.w, job.bias, job.y + m * job.N, job.N, n,
                                     m == 0 ? a : 0);
                } else {
                    rowsOneByOne(x, Mp, K, job.w, job.bias, job.y, job.N, n, job.N);
                }
            }
        }
    });
}

}  // namespace

bool bf16GemvAvailable() {
    static const bool ok = cpuHasAvx512() && __builtin_cpu_supports("avx512bf16");
    return ok;
}

std::vector<torch::Tensor> bf16GemvMany(const torch::Tensor& x,
                                        const std::vector<GemvWeight>& weights) {
    const int64_t M = x.size(0), K = x.size(1);
    TORCH_CHECK(M >= 1 && M <= kGemvMaxRows, "bf16Gemv: x must have 1..", kGemvMaxRows, " rows");
    // Rows of x are padded to 1, 2 or a multiple of 4 so every tile has 16 accumulators;
    // padding costs arithmetic only, the weights are still read once.
    const int64_t Mp = M <= 2 ? M : (M + 3) / 4 * 4;
    torch::Tensor xp = x;
    if (Mp != M) {
        xp = torch::zeros({Mp, K}, x.options());
        xp.narrow(0, 0, M).copy_(x);
    }
    // Tiles of 4 weight rows x 4 rows of x from 4 rows on: 8 loads feed 16 dot products (an
    // 8 x 2 tile needs 10), and the 4 weight rows stay in L1 while every 4-row slice of x
    // passes them. Measured on the project's machine, one thread, the 0.5B model's weights:
    // 8 rows 14.8 -> 18.4 GB/s, 32 rows 153 -> 174-189 GFLOP/s, 64 rows 166 -> 183.
    const int MT = static_cast<int>(std::min<int64_t>(Mp, 4));
    const int64_t RT = kAccumulators / MT;
    std::vector<Job> jobs;
    std::vector<torch::Tensor> outs;
    for (const GemvWeight& gw : weights) {
        const torch::Tensor& w = *gw.weight;
        TORCH_CHECK(w.dim() == 2 && w.size(1) == K && w.is_contiguous(),
                    "bf16Gemv: bad weight shape");
        const bool has_bias = gw.bias && gw.bias->defined();
        const int64_t N = w.size(0);
        outs.push_back(torch::empty({Mp, N}, x.options()));
        jobs.push_back({reinterpret_cast<const uint16_t*>(w.data_ptr()),
                        has_bias ? reinterpret_cast<const uint16_t*>(gw.bias->data_ptr()) : nullptr,
                        reinterpret_cast<uint16_t*>(outs.back().data_ptr()), N, (N + RT - 1) / RT});
    }
    const auto* xd = reinterpret_cast<const uint16_t*>(xp.data_ptr());
    switch (MT) {
        case 1:
            runTiles<1>(xd, Mp, K, jobs);
            break;
        case 2:
            runTiles<2>(xd, Mp, K, jobs);
            break;
        default:
            runTiles<4>(xd, Mp, K, jobs);
            break;
    }
    if (Mp != M)
        for (auto& o : outs) o = o.narrow(0, 0, M);
    return outs;
}

torch::Tensor bf16Gemv(const torch::Tensor& x, const torch::Tensor& weight,
                       const torch::Tensor& bias) {
    return bf16GemvMany(x, {{&weight, &bias}})[0];
}

#else

bool bf16GemvAvailable() {
    return false;
}
std::vector<torch::Tensor> bf16GemvMany(const torch::Tensor&, const std::vector<GemvWeight>&) {
    TORCH_CHECK(false, "bf16Gemv is not available on this platform");
}
torch::Tensor bf16Gemv(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&) {
    TORCH_CHECK(false, "bf16Gemv is not available on this platform");
}

#endif

}  // namespace reflab::model
