#include "core/model/runtime.h"

#include <dlfcn.h>
#include <torch/version.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cstdio>
#include <thread>

namespace reflab {

std::string torchVersion() {
    return TORCH_VERSION;
}

std::string blasLibraryPath() {
    void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
    if (!sym) return "";
    Dl_info info{};
    if (!dladdr(sym, &info) || !info.dli_fname) return "";
    char resolved[4096];
    if (realpath(info.dli_fname, resolved)) return resolved;
    return info.dli_fname;
}

namespace {
bool g_threads_chosen_by_user = false;

// at::set_num_threads, and OpenBLAS's own pool to match: Debian's LibTorch calls BLAS through
// libblas.so.3 and never sizes OpenBLAS's threads, so --threads 1 still ran float32 GEMMs on
// every core (and the roofline of a one-thread run measured two).
void setThreads(int threads) {
    at::set_num_threads(threads);
    using SetBlasThreads = void (*)(int);
    if (const auto f =
            reinterpret_cast<SetBlasThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        f(threads);
}
int defaultThreads() {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
}  // namespace

void fitThreadsToModel(int64_t parameters, int64_t small_model_parameters) {
    if (g_threads_chosen_by_user) return;
    setThreads(parameters < small_model_parameters ? 1 : defaultThreads());
}

RuntimeInfo runtimeInit(int threads) {
    RuntimeInfo info;
    g_threads_chosen_by_user = threads > 0;
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    setThreads(threads);
#ifdef __GLIBC__
    // LibTorch's CPU tensors come from malloc. glibc maps every block above its threshold (at
    // most 32 MB by default) fresh with mmap and unmaps it on free, so each step's large
    // activations and gradients page-fault in again: ~4% of a GRPO step on the 0.5B model.
    // Below 1 GB they are recycled from the heap instead (the step's peak memory moves by
    // less than 1%).
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    // Setting that threshold fixes the trim threshold at its 128 KB default, so each free at
    // the heap's top handed the pages back and the next step's tensors faulted them in again
    // (kernel page clearing ~7% of a bf16 GRPO step's profile): keep up to 1 GB of freed top.
    // bench --what train, 2-core Xeon: system time 31.6 -> 24.6 s; the step 36.6 -> 34.5 and
    // 36.0 s in two runs (within run-to-run noise); peak resident memory 8378 -> 8400 MiB.
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    info.intra_op_threads = at::get_num_threads();
    info.blas_path = blasLibraryPath();
    // Debian's reference BLAS lives in .../blas/libblas.so.3; OpenBLAS, MKL and BLIS name
    // themselves in their path. pip's LibTorch links MKL statically into libtorch_cpu.so.
    const std::string& p = info.blas_path;
    info.blas_is_fast = p.empty() || p.find("openblas") != std::string::npos ||
                        p.find("libtorch") != std::string::npos ||
                        p.find("mkl") != std::string::npos || p.find("blis") != std::string::npos;
    if (!info.blas_is_fast) {
        std::fprintf(stderr,
                     "reflab: WARNING: the reference BLAS (%s) is loaded; fp32 matrix products "
                     "will be ~30x slower. Install libopenblas0-pthread.\n",
                     p.c_str());
    }
    return info;
}

}  // namespace reflab
