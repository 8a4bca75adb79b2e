// Row kernels for token log-probabilities straight from bfloat16 logits: one pass per row for
// log-sum-exp, the target's log-prob and the entropy, and one in-place pass for the gradient.
// They replace float32 logits + log_softmax + gather + exp (+ their backward), which wrote
// and re-read several (rows x vocab) float32 tensors: at Qwen's 151936-entry vocabulary those
// passes and their page faults were a tenth of a training step.
// Plain C++ (no LibTorch): this file is compiled with -ffast-math so that std::exp in the
// loops becomes glibc's vector expf (libmvec) in AVX-512.
#pragma once
#include <cstdint>

namespace reflab::model {

// True when this CPU has AVX-512 (F, BW), checked once.
bool logprobRowsAvailable();

// For each of `rows` rows of bf16 logits z (row-major, row length V): lse[r] = log sum_j
// exp(z_rj); logprob[r] = z[r, target[r]] - lse[r]; and, when entropy is not null, entropy[r] =
// -sum_j p_rj log p_rj with p_r = softmax(z_r). Float32 sums. Rows run in parallel (OpenMP).
void bf16LogSoftmaxRowStats(const uint16_t* z, int64_t rows, int64_t V, const int64_t* target,
                            float* lse, float* logprob, float* entropy);

// The gradient of sum_r g[r] * logprob[r] with respect to z, written over z in place:
// z_rj <- bf16(g[r] * ([j == target[r]] - exp(z_rj - lse[r]))).
void bf16LogprobGradInPlace(uint16_t* z, int64_t rows, int64_t V, const int64_t* target,
                            const float* lse, const float* g);

}  // namespace reflab::model
