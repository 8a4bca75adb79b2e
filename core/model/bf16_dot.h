// Which bfloat16 dot product the decode kernels (projection_bf16.h, decode_kernels.h) run on
// this CPU. Native: AVX512-BF16's vdpbf16ps. Emulated: the same sums from AVX-512 F/BW/DQ/VL
// alone (each bf16 widened to float32 by a shift or a mask, two FMAs per 32-bit lane), for hosts
// whose CPU or hypervisor lacks or masks AVX512-BF16: without it every decode step fell back
// to LibTorch's eager bf16 path (oneDNN emulating bf16 at a fraction of memory speed), and the
// emulated dot still keeps up with the weight read. None: neither, the callers take LibTorch.
#pragma once
#include <cstdint>

namespace reflab::model {

enum class Bf16Dot { None, Emulated, Native };

// "none", "emulated" or "native".
const char* bf16DotName(Bf16Dot dot);

// The fastest dot this CPU runs (checked once): Native with AVX512-BF16, Emulated with AVX-512
// F/BW/DQ/VL only (cpuHasAvx512()), None otherwise.
Bf16Dot bf16DotSupported();

// The dot the kernels use: bf16DotSupported() unless a Bf16DotForced is alive.
Bf16Dot bf16DotInUse();

// For tests: the kernels use `dot` while this object lives, so one host checks every path it
// can run (Emulated on a host with Native too, or None for LibTorch's path). Throws when this
// CPU cannot run `dot` (Native needs AVX512-BF16, Emulated AVX-512). Process-wide: create and
// destroy it while no kernel runs, from the thread that runs them; they do not nest across
// threads.
class Bf16DotForced {
public:
    explicit Bf16DotForced(Bf16Dot dot);
    ~Bf16DotForced();
    Bf16DotForced(const Bf16DotForced&) = delete;
    Bf16DotForced& operator=(const Bf16DotForced&) = delete;

private:
    Bf16Dot m_previous;
    bool m_was_forced;
};

// For tests: float32 -> bf16 bits for [0, n) with the emulated path's vector rounding (nearest,
// ties to even; a NaN stays a NaN, 0x7FC0 with its sign dropped, as c10::BFloat16 gives).
// Precondition: bf16DotSupported() != Bf16Dot::None.
void bf16RoundEmulated(const float* x, uint16_t* y, int64_t n);

}  // namespace reflab::model
