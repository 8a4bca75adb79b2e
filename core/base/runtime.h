// Process-wide runtime set-up of the core: LibTorch threads and the BLAS check.
// Call runtimeInit() once at program start, from the main thread, before any tensor work.
#pragma once
#include <string>

namespace reflab {

struct RuntimeInfo {
    int intra_op_threads = 0;
    std::string blas_path;     // the shared object that provides sgemm_, "" when linked statically
    bool blas_is_fast = true;  // false when the reference (netlib) BLAS is the one loaded
};

// Sets LibTorch's intra-op threads to `threads` (0: the machine's cores; Debian's LibTorch
// starts with 1) and warns on stderr, loudly, when the reference BLAS is loaded: fp32 GEMM
// is then ~30x slower (install libopenblas0-pthread).
RuntimeInfo runtimeInit(int threads = 0);

// Where sgemm_ comes from in this process ("" when no dynamic BLAS provides it).
std::string blasLibraryPath();

}  // namespace reflab
