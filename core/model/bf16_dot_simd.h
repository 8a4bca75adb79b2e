// The two bf16 dot products of bf16_dot.h as policies for the AVX-512 kernels
// (projection_bf16_tiles.inc, decode_attention_kernel.inc): each kernel source is compiled once
// per policy under that policy's target, so the emulated copy is built without avx512bf16 and
// cannot emit a bf16 instruction (a GCC/Clang function cannot inline a callee whose target is
// a superset of its own, so the kernels' helpers are compiled with each copy, not shared).
// x86-64 with GCC or Clang only; include after <immintrin.h>.
#pragma once
#include <immintrin.h>

#include <cstdint>

// vdpbf16ps and vcvtneps2bf16 on top of the AVX-512 the emulated path uses.
#define REFLAB_BF16_NATIVE_TARGET \
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))
// AVX-512 F/BW/DQ/VL (cpuHasAvx512()), no bf16 instruction.
#define REFLAB_BF16_EMULATED_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))

namespace reflab::model {

// Shared by both policies (a subset of both targets, so it inlines into either).
// NaN -> 0x7FC0 (c10::BFloat16's NaN), otherwise round to nearest, ties to even, on the bits:
// (u + 0x7FFF + ((u >> 16) & 1)) >> 16; overflow rounds to infinity as it should.
REFLAB_BF16_EMULATED_TARGET __attribute__((always_inline)) inline __m256i bf16RoundEmulatedVec(
    __m512 v) {
    const __m512i u = _mm512_castps_si512(v);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_srli_epi32(
        _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), odd), 16);
    r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_set1_epi32(0x7FC0));
    return _mm512_cvtepi32_epi16(r);  // vpmovdw: the low 16 bits of each lane
}

// A dot policy: Operand is 32 bf16 (16 pairs) in the form dot() consumes, made once per load
// by load() / loadMasked() so a tile converts each x and each weight vector once, not per
// FMA. dot(acc, a, b): per 32-bit lane acc + a.odd * b.odd + a.even * b.even (vdpbf16ps).
// toBf16(16 floats) -> 16 bf16, round to nearest even.

struct NativeDot {
    using Operand = __m512bh;
    REFLAB_BF16_NATIVE_TARGET __attribute__((always_inline)) static inline Operand load(
        const uint16_t* p) {
        return (__m512bh)_mm512_loadu_si512(p);
    }
    // Pairs [0, 32) where mask bit i is set, zeros elsewhere.
    REFLAB_BF16_NATIVE_TARGET __attribute__((always_inline)) static inline Operand loadMasked(
        __mmask32 mask, const uint16_t* p) {
        return (__m512bh)_mm512_maskz_loadu_epi16(mask, p);
    }
    REFLAB_BF16_NATIVE_TARGET __attribute__((always_inline)) static inline __m512 dot(__m512 acc,
                                                                                      Operand a,
                                                                                      Operand b) {
        return _mm512_dpbf16_ps(acc, a, b);
    }
    REFLAB_BF16_NATIVE_TARGET __attribute__((always_inline)) static inline __m256i toBf16(
        __m512 v) {
        return (__m256i)_mm512_cvtneps_pbh(v);
    }
};

struct EmulatedDot {
    // The even (low) and odd (high) bf16 of each 32-bit lane as float32: a bf16 is the upper
    // half of its float, so the even one moves up 16 bits and the odd one keeps its place with
    // the low half cleared. Products of two bf16 are exact in float32, so the two FMAs (odd
    // first, as vdpbf16ps adds them) round only the sums; unlike vdpbf16ps, subnormals are kept
    // rather than flushed.
    struct Operand {
        __m512 even, odd;
    };
    REFLAB_BF16_EMULATED_TARGET __attribute__((always_inline)) static inline Operand widen(
        __m512i v) {
        return {_mm512_castsi512_ps(_mm512_slli_epi32(v, 16)),
                _mm512_castsi512_ps(
                    _mm512_and_si512(v, _mm512_set1_epi32(static_cast<int>(0xFFFF0000u))))};
    }
    REFLAB_BF16_EMULATED_TARGET __attribute__((always_inline)) static inline Operand load(
        const uint16_t* p) {
        return widen(_mm512_loadu_si512(p));
    }
    REFLAB_BF16_EMULATED_TARGET __attribute__((always_inline)) static inline Operand loadMasked(
        __mmask32 mask, const uint16_t* p) {
        return widen(_mm512_maskz_loadu_epi16(mask, p));
    }
    REFLAB_BF16_EMULATED_TARGET __attribute__((always_inline)) static inline __m512 dot(
        __m512 acc, const Operand& a, const Operand& b) {
        return _mm512_fmadd_ps(a.even, b.even, _mm512_fmadd_ps(a.odd, b.odd, acc));
    }
    REFLAB_BF16_EMULATED_TARGET __attribute__((always_inline)) static inline __m256i toBf16(
        __m512 v) {
        return bf16RoundEmulatedVec(v);
    }
};

}  // namespace reflab::model
