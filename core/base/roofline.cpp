// Roofline measurement (see roofline.h).
#include "core/base/roofline.h"

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
}  // namespace

Roofline measureRoofline(torch::Dtype dtype, torch::Device device, double seconds) {
    c10::InferenceMode guard;
    Roofline r;
    const int64_t n = device.is_cuda() ? 8192 : 1024;
    auto opts = torch::TensorOptions().dtype(dtype).device(device);
    torch::Tensor a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts), c = torch::empty({n, n}, opts);
    const double t = bestSeconds(device, seconds / 2, [&] { torch::mm_out(c, a, b); });
    r.gemm_gflops = 2.0 * n * n * n / t / 1e9;
    // A buffer far larger than any cache: 512 MiB on CPU, 2 GiB on GPU.
    const int64_t floats = device.is_cuda() ? (int64_t(1) << 29) : (int64_t(1) << 27);
    torch::Tensor buf = torch::ones({floats}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    torch::Tensor out = torch::empty({}, buf.options());
    const double tb = bestSeconds(device, seconds / 2, [&] { torch::sum_out(out, buf); });
    r.bandwidth_gbs = static_cast<double>(floats) * 4 / tb / 1e9;
    return r;
}

}  // namespace reflab
