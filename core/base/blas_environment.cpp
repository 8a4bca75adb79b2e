// See blas_environment.h.
#include "core/base/blas_environment.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "core/base/cpu_features.h"

namespace reflab {

namespace {

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return ok;
#else
    return false;
#endif
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

}  // namespace

std::string betterBlasCore(const std::string& chosen_core) {
    // OpenBLAS's x86-64 cores without AVX2: what its fallback and its oldest entries name.
    static const std::array<const char*, 8> kPreAvx2 = {
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "sandybridge", "barcelona"};
    const std::string core = lower(chosen_core);
    const bool pre_avx2 = std::find(kPreAvx2.begin(), kPreAvx2.end(), core) != kPreAvx2.end();
    // Only a choice below AVX2 is taken for a misdetection: a known core keeps OpenBLAS's own
    // choice (on AMD's Zen 4 it picks the Zen kernels on purpose).
    if (!pre_avx2) return "";
    if (cpuHasAvx512()) return "SkylakeX";
    if (cpuHasAvx2Fma()) return "Haswell";
    return "";
}

void restartWithBlasEnvironment(char** argv) {
    using CoreName = char* (*)();
    using Parallel = int (*)();
    const auto corename = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    const auto parallel = reinterpret_cast<Parallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
    if (!corename) return;  // not OpenBLAS
    bool changed = false;
    std::string core_note;
    if (!std::getenv("OPENBLAS_CORETYPE")) {
        const char* chosen = corename();
        const std::string better = betterBlasCore(chosen ? chosen : "");
        if (!better.empty()) {
            setenv("OPENBLAS_CORETYPE", better.c_str(), 1);
            core_note = std::string(chosen) + " -> " + better;
            changed = true;
        }
    }
    // openblas_get_parallel(): 0 sequential, 1 its own pthreads, 2 OpenMP (LibTorch's pool).
    const bool own_pool = parallel && parallel() == 1;
    if (own_pool && !std::getenv("GOMP_SPINCOUNT") && !std::getenv("OMP_WAIT_POLICY") &&
        dlsym(RTLD_DEFAULT, "omp_get_max_threads")) {
        setenv("GOMP_SPINCOUNT", kGompSpinCount, 1);
        changed = true;
    }
    if (!changed) return;
    execv("/proc/self/exe", argv);
    std::fprintf(stderr,
                 "reflab: restarting with the BLAS environment failed (OpenBLAS core %s); "
                 "products may be slow\n",
                 core_note.empty() ? "kept" : core_note.c_str());
}

}  // namespace reflab
