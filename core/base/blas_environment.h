// The process environment the BLAS and OpenMP libraries read when they load, before main():
// two settings that cannot be changed once the program runs, so main() starts the program again
// with them when they are missing.
//
// 1. OPENBLAS_CORETYPE. OpenBLAS picks its kernels from a table of CPU models; a model newer
//    than the table falls back to the Prescott (SSE3) kernels. Debian bookworm's OpenBLAS
//    0.3.21 does not know Intel's Emerald Rapids (family 6, model 0xCF): float32 GEMM ran at
//    41-61 GFLOP/s on 2 cores there, 290-300 with the AVX-512 kernels it names SkylakeX.
// 2. GOMP_SPINCOUNT. LibTorch's intra-op threads are OpenMP's; Debian's OpenBLAS runs its GEMMs
//    on a pool of its own (the pthread build). After each OpenMP parallel region libgomp's
//    workers spin for about 300,000 iterations before they sleep, on the cores OpenBLAS's
//    threads are about to use: a bf16 GRPO step that widens its products to float32 (no
//    AVX512-BF16) took 46.4 s with the default, 33.4 s with workers that sleep at once, 31.1 s
//    with GOMP_SPINCOUNT=20000 (short enough to clear the fight, long enough that a decode
//    step's back-to-back regions still find their workers awake: batch-1 decode 23.5 -> 24.9
//    tok/s on that 2-core host).
#pragma once
#include <string>

namespace reflab {

// The kernels OpenBLAS should use on this CPU when the core it chose predates AVX2 while the
// CPU has it ("SkylakeX" with AVX-512 F/BW/DQ/VL, "Haswell" with AVX2 + FMA); "" otherwise
// (its choice is kept).
std::string betterBlasCore(const std::string& chosen_core);

// The spin count set when OpenBLAS runs its own thread pool beside OpenMP's.
inline constexpr const char* kGompSpinCount = "20000";

// Call first in main(), before any thread starts. Sets OPENBLAS_CORETYPE when
// betterBlasCore() names a better core than OpenBLAS chose, and GOMP_SPINCOUNT when OpenBLAS's
// pthread build is loaded with OpenMP, each only when unset (a user's value is kept); when it
// set either, replaces the process with a fresh start of the same program and arguments.
// Child processes inherit both, so they start once. Returns when nothing is needed or the
// restart fails (said on stderr).
void restartWithBlasEnvironment(char** argv);

}  // namespace reflab
