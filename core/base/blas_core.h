// OpenBLAS picks its kernels from a table of CPU models when it loads. A model newer than that
// table falls back to the Prescott (SSE3) kernels: Debian bookworm's OpenBLAS 0.3.21 does not
// know Intel's Emerald Rapids (family 6, model 0xCF), and there float32 GEMM ran at 41-61
// GFLOP/s on 2 cores instead of the AVX-512 kernels' rate. The choice is made before main()
// runs, so the only remedy from inside the program is to start it again with
// OPENBLAS_CORETYPE naming the kernels the CPU's own features allow.
#pragma once
#include <string>

namespace reflab {

// The kernels OpenBLAS should use on this CPU when the core it chose predates AVX2 while the
// CPU has it ("SkylakeX" with AVX-512 F/BW/DQ/VL, "Haswell" with AVX2 + FMA); "" otherwise
// (its choice is kept).
std::string betterBlasCore(const std::string& chosen_core);

// Call first in main(), before any thread starts: when OpenBLAS is loaded, OPENBLAS_CORETYPE is
// unset and betterBlasCore() names a better core, sets OPENBLAS_CORETYPE and replaces the
// process with a fresh start of the same program and arguments (child processes inherit the
// variable, so they start once). Returns when nothing needs doing or the restart fails.
void restartIfBlasMisdetectsCpu(char** argv);

}  // namespace reflab
