// bfloat16 as raw 16-bit patterns, for the CPU kernels that stream bf16 tensors through their
// own loops (GEMV, decode, fused ops, AdamW, log-prob rows). Plain inline functions on integers
// so that `omp simd` loops vectorise them; no LibTorch, so files built without its precompiled
// header (exp_kernels.cpp) can use them too.
#pragma once
#include <cstdint>
#include <cstring>

namespace reflab {

// The float whose upper 16 bits are v (exact: every bf16 is a float).
inline float bf16BitsToFloat(uint16_t v) {
    const uint32_t bits = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// f rounded to the nearest bf16, ties to even, as c10::BFloat16 does for finite values (NaN is
// not special-cased: callers pass finite values).
inline uint16_t floatToBf16Bits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    bits += 0x7FFFu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

}  // namespace reflab
