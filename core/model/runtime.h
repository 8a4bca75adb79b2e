// Process-wide runtime set-up of the core: LibTorch threads and the BLAS check.
// Call runtimeInit() once at program start, from the main thread, before any tensor work.
#pragma once
#include <cstdint>
#include <string>

namespace reflab {

struct RuntimeInfo {
    int intra_op_threads = 0;
    std::string blas_path;     // the shared object that provides sgemm_, "" when linked statically
    bool blas_is_fast = true;  // false when the reference (netlib) BLAS is the one loaded
};

// Sets LibTorch's intra-op threads to `threads` (0: the machine's cores; Debian's LibTorch
// starts with 1) and warns on stderr, loudly, when the reference BLAS is loaded: fp32 GEMM
// is then ~30x slower (install libopenblas0-pthread). With glibc, blocks below 1 GB are
// recycled by malloc rather than mapped and unmapped per allocation, and up to 1 GB of freed
// heap is kept rather than trimmed (see runtime.cpp).
RuntimeInfo runtimeInit(int threads = 0);

// Matches the intra-op threads to the model about to run, unless runtimeInit() was given an
// explicit count: 1 thread below `small_model_parameters` (a tiny model's ops are microseconds
// long; a second thread only spins at every op's barrier, 10-20x slower when the machine is
// busy), all cores otherwise. Called when a model is loaded.
void fitThreadsToModel(int64_t parameters, int64_t small_model_parameters = 20'000'000);

// LibTorch's version string (TORCH_VERSION).
std::string torchVersion();

// Where sgemm_ comes from in this process ("" when no dynamic BLAS provides it).
std::string blasLibraryPath();

}  // namespace reflab
