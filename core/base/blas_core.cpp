// See blas_core.h.
#include "core/base/blas_core.h"

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

void restartIfBlasMisdetectsCpu(char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE")) return;  // chosen already (by the user, or by us)
    using CoreName = char* (*)();
    const auto corename = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    if (!corename) return;  // not OpenBLAS
    const char* chosen = corename();
    const std::string better = betterBlasCore(chosen ? chosen : "");
    if (better.empty()) return;
    setenv("OPENBLAS_CORETYPE", better.c_str(), 1);
    execv("/proc/self/exe", argv);
    std::fprintf(stderr,
                 "reflab: OpenBLAS chose its %s kernels on this CPU and restarting with "
                 "OPENBLAS_CORETYPE=%s failed; float32 products will be slow\n",
                 chosen, better.c_str());
}

}  // namespace reflab
