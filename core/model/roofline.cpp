// Roofline measurement (see roofline.h).
#include "core/model/roofline.h"

#include <ATen/Parallel.h>
#include <pthread.h>
#include <sched.h>
#include <torch/cuda.h>
#include "core/base/cpu_features.h"
#include "core/model/cpu_caches.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define REFLAB_HAVE_READ_KERNELS 1
#endif

#include <algorithm>
#include <chrono>
#include <functional>

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

// The ways a kernel can stream memory in, each measured, the best taken: a roofline below what
// a well-written kernel reaches would flatter every kernel measured against it (issue 13: the
// eager peer's torch.sum read 36-55 GB/s where a single method here said 31).
struct ReadMethod {
    bool chunked;         // one contiguous share per thread (else 256 KB blocks, static)
    int64_t ahead_bytes;  // software prefetch distance into L2 (0: hardware prefetch only)
    bool nontemporal;     // streaming loads (vmovntdqa)
    bool pinned;          // each thread bound to one CPU while it reads
};

// Runs on each intra-op thread; pins it to the tid-th CPU of the process's mask and restores
// its own mask afterwards, so the threads' placement outside the measurement is unchanged.
class PinGuard {
public:
    PinGuard(bool pin, int tid) : m_pin(pin) {
        if (!m_pin) return;
        pthread_getaffinity_np(pthread_self(), sizeof m_saved, &m_saved);
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        sched_getaffinity(0, sizeof allowed, &allowed);
        const int count = std::max(1, CPU_COUNT(&allowed));
        int want = tid % count, seen = 0;
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &allowed) && seen++ == want) {
                CPU_SET(c, &one);
                break;
            }
        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    }
    ~PinGuard() {
        if (m_pin) pthread_setaffinity_np(pthread_self(), sizeof m_saved, &m_saved);
    }
    PinGuard(const PinGuard&) = delete;
    PinGuard& operator=(const PinGuard&) = delete;

private:
    bool m_pin;
    cpu_set_t m_saved{};
};

#ifdef REFLAB_HAVE_READ_KERNELS
// Sums floats [b, e) with four independent 512-bit accumulators (one would leave the adds'
// latency, not memory, setting the pace), prefetching `ahead` bytes on.
__attribute__((target("avx512f"))) float sumRange(const float* x, int64_t b, int64_t e,
                                                  int64_t ahead, bool nontemporal) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const int64_t ahead_floats = ahead / 4;
    int64_t i = b;
    for (; i + 64 <= e; i += 64) {
        if (ahead_floats) {
            const char* p = reinterpret_cast<const char*>(x + i + ahead_floats);
            for (int l = 0; l < 4; ++l) _mm_prefetch(p + 64 * l, _MM_HINT_T1);
        }
        if (nontemporal) {
            auto* v = reinterpret_cast<void*>(const_cast<float*>(x + i));
            a0 = _mm512_add_ps(a0, _mm512_castsi512_ps(_mm512_stream_load_si512(v)));
            a1 = _mm512_add_ps(
                a1, _mm512_castsi512_ps(_mm512_stream_load_si512(static_cast<char*>(v) + 64)));
            a2 = _mm512_add_ps(
                a2, _mm512_castsi512_ps(_mm512_stream_load_si512(static_cast<char*>(v) + 128)));
            a3 = _mm512_add_ps(
                a3, _mm512_castsi512_ps(_mm512_stream_load_si512(static_cast<char*>(v) + 192)));
        } else {
            a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
            a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
            a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
            a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
        }
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; i < e; ++i) s += x[i];
    return s;
}
#endif

// Portable read: the compiler's vector loop (no prefetch, no streaming loads).
float sumRangePortable(const float* x, int64_t b, int64_t e) {
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; ++i) s += x[i];
    return s;
}

// One full read of x (n floats, 64-byte aligned) on `threads` threads by method m.
double readAll(const float* x, int64_t n, int threads, const ReadMethod& m) {
    double total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num(), nt = omp_get_num_threads();
#else
        const int tid = 0, nt = 1;
#endif
        PinGuard pin(m.pinned, tid);
        auto sum = [&](int64_t b, int64_t e) -> float {
#ifdef REFLAB_HAVE_READ_KERNELS
            if (cpuHasAvx512()) return sumRange(x, b, e, m.ahead_bytes, m.nontemporal);
#endif
            return sumRangePortable(x, b, e);
        };
        if (m.chunked) {
            // Shares rounded to 64 floats so every thread starts on a cache line.
            const int64_t share = (n / nt + 63) / 64 * 64;
            const int64_t b = std::min(n, tid * share), e = std::min(n, b + share);
            total += sum(b, e);
        } else {
            constexpr int64_t kBlock = 1 << 16;  // floats
            const int64_t blocks = (n + kBlock - 1) / kBlock;
            for (int64_t blk = tid; blk < blocks; blk += nt)
                total += sum(blk * kBlock, std::min(n, (blk + 1) * kBlock));
        }
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

GemmBound measureGemmBound(torch::Dtype dtype, torch::Device device, int64_t m, int64_t k,
                           int64_t n, double seconds) {
    GemmBound b;
    const bool with_float32 = !device.is_cuda() && dtype != torch::kFloat32;
    b.dtype_gflops =
        measureGemmGflops(dtype, device, m, k, n, with_float32 ? seconds / 2 : seconds);
    if (with_float32)
        b.float32_gflops = measureGemmGflops(torch::kFloat32, device, m, k, n, seconds / 2);
    b.gflops = std::max(b.dtype_gflops, b.float32_gflops);
    return b;
}

Roofline measureRoofline(torch::Dtype dtype, torch::Device device, double seconds) {
    c10::InferenceMode guard;
    Roofline r;
    const int64_t n = device.is_cuda() ? 8192 : 1024;
    r.gemm_n = n;
    const GemmBound gemm = measureGemmBound(dtype, device, n, n, n, seconds / 3);
    r.gemm_gflops = gemm.gflops;
    r.gemm_dtype_gflops = gemm.dtype_gflops;
    r.gemm_float32_gflops = gemm.float32_gflops;
    r.intra_op_threads = at::get_num_threads();
#ifdef _OPENMP
    r.omp_threads = omp_get_max_threads();
#endif
    // A buffer far larger than the last-level cache: 512 MiB (or 8 x the L3) on CPU, 2 GiB on
    // GPU, so every method reads DRAM, not a cache.
    const int64_t bytes =
        device.is_cuda()
            ? (int64_t(1) << 31)
            : std::min<int64_t>(int64_t(2) << 30,
                                std::max<int64_t>(int64_t(1) << 29, 8 * model::cpuCaches().l3));
    const int64_t floats = bytes / 4;
    r.bandwidth_buffer_bytes = floats * 4;
    torch::Tensor buf =
        torch::ones({floats}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    torch::Tensor out = torch::empty({}, buf.options());
    auto gbs = [&](double t) { return static_cast<double>(floats) * 4 / t / 1e9; };
    std::vector<std::pair<std::string, std::function<void()>>> methods;
    methods.push_back({"torch_sum", [&] { torch::sum_out(out, buf); }});
    if (device.is_cpu()) {
        const float* x = buf.data_ptr<float>();
        // The kernels' threads: parallel_for runs at::get_num_threads() of them, and OpenMP's
        // own count on this thread may differ (omp_set_num_threads is per thread).
        const int threads = std::max(1, r.intra_op_threads);
        const int64_t ahead = model::prefetchAheadBytes();
        const std::vector<std::pair<std::string, ReadMethod>> reads = {
            {"blocked_prefetch", {false, ahead, false, false}},
            {"chunked", {true, 0, false, false}},
            {"chunked_prefetch", {true, ahead, false, false}},
            {"chunked_prefetch_half", {true, ahead / 2, false, false}},
            {"chunked_prefetch_double", {true, ahead * 2, false, false}},
            {"chunked_nontemporal", {true, ahead, true, false}},
            {"chunked_prefetch_pinned", {true, ahead, false, true}},
        };
        for (const auto& [name, m] : reads) {
            if (m.nontemporal && !cpuHasAvx512()) continue;
            methods.push_back({name, [&, m = m] {
                                   volatile double sink = readAll(x, floats, threads, m);
                                   (void)sink;
                               }});
        }
    }
    const double budget = seconds * 2 / 3 / static_cast<double>(methods.size());
    for (const auto& [name, fn] : methods) {
        const double rate = gbs(bestSeconds(device, budget, fn));
        r.bandwidth_methods.push_back({name, rate});
        if (rate > r.bandwidth_gbs) {
            r.bandwidth_gbs = rate;
            r.bandwidth_method = name;
        }
    }
    return r;
}

}  // namespace reflab
