// Roofline measurement (see roofline.h).
#include "core/model/roofline.h"

#include <torch/cuda.h>
#include "core/base/cpu_features.h"

#include <algorithm>
#include <chrono>

namespace reflab {

namespace {
using Clock = std::chrono::steady_clock;
void sync(const torch::Device& d) {
    if (d.is_cuda()) torch::cuda::synchronize();
}
// Best (shortest) time of `fn` over repeats filling about `budget` seconds, at least 3 runs.
template <class F>
double bestSeconds(const torch::Device& d, double budget, F fn) {
    fn();  // warm-up (oneDNN primitive creation, CUDA context, page faults)
    sync(d);
    double best = 1e30, spent = 0;
    for (int i = 0; i < 3 || spent < budget; ++i) {
        auto t0 = Clock::now();
        fn();
        sync(d);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        best = std::min(best, s);
        spent += s;
        if (i > 1000) break;
    }
    return best;
}
// A streaming read of x with software prefetch into L2, summed in vectors on every thread: the
// fastest way this code knows to pull memory in (torch::sum alone reads ~10% slower here, which
// would let a well-prefetched kernel score above 100% of "the" bandwidth).
REFLAB_AVX512_CLONES double prefetchedReadSum(const float* x, int64_t n) {
    constexpr int64_t kBlock = 1 << 16, kAhead = 4096;  // floats: 16 KB ahead
    double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
    for (int64_t c = 0; c < n; c += kBlock) {
        const int64_t e = std::min(n, c + kBlock);
        float s = 0;
        for (int64_t b = c; b < e; b += 256) {
            for (int64_t p = 0; p < 256; p += 16) __builtin_prefetch(x + b + kAhead + p, 0, 1);
#pragma omp simd reduction(+ : s)
            for (int64_t i = b; i < std::min(e, b + 256); ++i) s += x[i];
        }
        total += s;
    }
    return total;
}
}  // namespace

double measureGemmGflops(torch::Dtype dtype, torch::Device device, int64_t m, int64_t k, int64_t n,
                         double seconds) {
    c10::InferenceMode guard;
    auto opts = torch::TensorOptions().dtype(dtype).device(device);
    torch::Tensor a = torch::randn({m, k}, opts), b = torch::randn({k, n}, opts),
                  c = torch::empty({m, n}, opts);
    const double t = bestSeconds(device, seconds, [&] { torch::mm_out(c, a, b); });
    return 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n) / t / 1e9;
}

Roofline measureRoofline(torch::Dtype dtype, torch::Device device, double seconds) {
    c10::InferenceMode guard;
    Roofline r;
    const int64_t n = device.is_cuda() ? 8192 : 1024;
    r.gemm_n = n;
    r.gemm_gflops = measureGemmGflops(dtype, device, n, n, n, seconds / 2);
    // A buffer far larger than any cache: 512 MiB on CPU, 2 GiB on GPU.
    const int64_t floats = device.is_cuda() ? (int64_t(1) << 29) : (int64_t(1) << 27);
    torch::Tensor buf =
        torch::ones({floats}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    torch::Tensor out = torch::empty({}, buf.options());
    double tb = bestSeconds(device, seconds / 4, [&] { torch::sum_out(out, buf); });
    if (device.is_cpu()) {
        volatile double sink = 0;
        tb = std::min(tb, bestSeconds(device, seconds / 4, [&] {
                          sink = prefetchedReadSum(buf.data_ptr<float>(), floats);
                      }));
    }
    r.bandwidth_gbs = static_cast<double>(floats) * 4 / tb / 1e9;
    return r;
}

}  // namespace reflab
