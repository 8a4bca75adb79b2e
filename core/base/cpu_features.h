// Compile-time and run-time switches for the AVX-512 code paths of the core's CPU kernels.
// On x86-64 with GCC or Clang a kernel can be compiled for AVX-512 next to the baseline build
// (REFLAB_AVX512_TARGET, checked with cpuHasAvx512() before the call) or cloned for both with
// the loader picking one (REFLAB_AVX512_CLONES). Elsewhere (aarch64, other compilers) both
// macros are empty and cpuHasAvx512() is false, so the same sources build and the callers take
// their portable paths.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define REFLAB_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define REFLAB_AVX512_CLONES __attribute__((target_clones("avx512f", "default")))
#else
#define REFLAB_AVX512_TARGET
#define REFLAB_AVX512_CLONES
#endif

namespace reflab {

// AVX-512 F, BW, DQ and VL on this CPU (checked once).
inline bool cpuHasAvx512() {
#if defined(__x86_64__) && defined(__GNUC__)
    static const bool ok = __builtin_cpu_supports("avx512f") &&
                           __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    return ok;
#else
    return false;
#endif
}

}  // namespace reflab
