// AVX-512 small-M bf16 projection kernel, native or emulated bf16 dot (see projection_bf16.h).
#include "core/model/projection_bf16.h"

#include "core/base/bf16_bits.h"
#include "core/base/cpu_features.h"
#include "core/model/cpu_caches.h"

#include <ATen/Parallel.h>

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/model/bf16_dot_simd.h"
#define REFLAB_HAVE_BF16_KERNEL 1
#endif

namespace reflab::model {

#ifdef REFLAB_HAVE_BF16_KERNEL
namespace {

// A tile is RT weight rows x MT rows of x = 16 float32 accumulators (half the register file),
// reduced together at the end by one 16-way transpose-add instead of 16 horizontal sums.
constexpr int kAccumulators = 16;

// One projection's view for the kernels: raw pointers and sizes.
struct Job {
    const uint16_t* w;
    const uint16_t* bias;
    uint16_t* y;  // (Mp, N) padded output
    int64_t N;
    int64_t tiles;  // ceil(N / RT)
};

// The tile kernel once per dot policy (see projection_bf16_tiles.inc).
namespace tiles_native {
using Dot = NativeDot;
#define REFLAB_KERNEL_TARGET REFLAB_BF16_NATIVE_TARGET
#include "core/model/projection_bf16_tiles.inc"
#undef REFLAB_KERNEL_TARGET
}  // namespace tiles_native

namespace tiles_emulated {
using Dot = EmulatedDot;
#define REFLAB_KERNEL_TARGET REFLAB_BF16_EMULATED_TARGET
#include "core/model/projection_bf16_tiles.inc"
#undef REFLAB_KERNEL_TARGET
}  // namespace tiles_emulated

template <int MT>
void runTilesOn(Bf16Dot dot, const uint16_t* x, int64_t Mp, int64_t K,
                const std::vector<Job>& jobs) {
    if (dot == Bf16Dot::Native)
        tiles_native::runTiles<MT>(x, Mp, K, jobs);
    else
        tiles_emulated::runTiles<MT>(x, Mp, K, jobs);
}

}  // namespace

bool bf16GemvAvailable() {
    return bf16DotInUse() != Bf16Dot::None;
}

std::vector<torch::Tensor> bf16GemvMany(const torch::Tensor& x,
                                        const std::vector<GemvWeight>& weights) {
    const Bf16Dot dot = bf16DotInUse();
    TORCH_CHECK(dot != Bf16Dot::None, "bf16Gemv: this CPU has no AVX-512");
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
            runTilesOn<1>(dot, xd, Mp, K, jobs);
            break;
        case 2:
            runTilesOn<2>(dot, xd, Mp, K, jobs);
            break;
        default:
            runTilesOn<4>(dot, xd, Mp, K, jobs);
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
