// Choice of the bf16 dot product (see bf16_dot.h).
#include "core/model/bf16_dot.h"

#include "core/base/cpu_features.h"

#include <c10/util/Exception.h>

#include <atomic>

#if defined(__x86_64__) && defined(__GNUC__)
#include "core/model/bf16_dot_simd.h"
#define REFLAB_HAVE_BF16_DOT 1
#endif

namespace reflab::model {

namespace {
// -1: not forced; otherwise the Bf16Dot a test forced.
std::atomic<int> g_forced{-1};
}  // namespace

const char* bf16DotName(Bf16Dot dot) {
    switch (dot) {
        case Bf16Dot::Native:
            return "native";
        case Bf16Dot::Emulated:
            return "emulated";
        case Bf16Dot::None:
            break;
    }
    return "none";
}

Bf16Dot bf16DotSupported() {
#ifdef REFLAB_HAVE_BF16_DOT
    static const Bf16Dot dot = !cpuHasAvx512()                        ? Bf16Dot::None
                               : __builtin_cpu_supports("avx512bf16") ? Bf16Dot::Native
                                                                      : Bf16Dot::Emulated;
    return dot;
#else
    return Bf16Dot::None;
#endif
}

Bf16Dot bf16DotInUse() {
    const int forced = g_forced.load(std::memory_order_relaxed);
    return forced < 0 ? bf16DotSupported() : static_cast<Bf16Dot>(forced);
}

Bf16DotForced::Bf16DotForced(Bf16Dot dot) {
    TORCH_CHECK(static_cast<int>(dot) <= static_cast<int>(bf16DotSupported()),
                "Bf16DotForced: this CPU cannot run the ", bf16DotName(dot),
                " bf16 dot (it supports ", bf16DotName(bf16DotSupported()), ")");
    const int previous = g_forced.exchange(static_cast<int>(dot));
    m_was_forced = previous >= 0;
    m_previous = m_was_forced ? static_cast<Bf16Dot>(previous) : Bf16Dot::None;
}

Bf16DotForced::~Bf16DotForced() {
    g_forced.store(m_was_forced ? static_cast<int>(m_previous) : -1);
}

#ifdef REFLAB_HAVE_BF16_DOT
namespace {
REFLAB_BF16_EMULATED_TARGET void roundEmulated(const float* x, uint16_t* y, int64_t n) {
    for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? static_cast<__mmask16>(0xFFFF)
                                        : static_cast<__mmask16>((1u << (n - i)) - 1);
        const __m256i r = bf16RoundEmulatedVec(_mm512_maskz_loadu_ps(m, x + i));
        _mm256_mask_storeu_epi16(y + i, m, r);
    }
}
}  // namespace
#endif

void bf16RoundEmulated(const float* x, uint16_t* y, int64_t n) {
#ifdef REFLAB_HAVE_BF16_DOT
    TORCH_CHECK(bf16DotSupported() != Bf16Dot::None, "bf16RoundEmulated needs AVX-512");
    roundEmulated(x, y, n);
#else
    (void)x;
    (void)y;
    (void)n;
    TORCH_CHECK(false, "bf16RoundEmulated is not available on this platform");
#endif
}

}  // namespace reflab::model
