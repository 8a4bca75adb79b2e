#include "core/base/runtime.h"

#include <dlfcn.h>

#include <cstdio>
#include <thread>

namespace reflab {

std::string blasLibraryPath() {
    void* sym = dlsym(RTLD_DEFAULT, "sgemm_");
    if (!sym) return "";
    Dl_info info{};
    if (!dladdr(sym, &info) || !info.dli_fname) return "";
    char resolved[4096];
    if (realpath(info.dli_fname, resolved)) return resolved;
    return info.dli_fname;
}

RuntimeInfo runtimeInit(int threads) {
    RuntimeInfo info;
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(threads);
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
