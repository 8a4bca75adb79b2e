// bfloat16 kernels built on a vector exp, one pass each:
// - token log-probabilities straight from bf16 logits: log-sum-exp, the target's log-prob and
//   the entropy per row, and the gradient in place. They replace float32 logits + log_softmax
//   + gather + exp (+ their backward), which wrote and re-read several (rows x vocab) float32
//   tensors: at Qwen's 151936-entry vocabulary those passes were a tenth of a training step;
// - the SiLU-gated product of the MLP, forward and backward (three LibTorch passes and a
//   float32 sigmoid tensor before).
// Plain C++ (no LibTorch): this file is compiled with -ffast-math so that std::exp in the
// loops becomes glibc's vector expf (libmvec) in AVX-512.
#pragma once
#include <cstdint>

namespace reflab::model {

// True when this CPU has AVX-512 (F, BW, DQ, VL), checked once.
bool expKernelsAvailable();

// For each of `rows` rows of bf16 logits z (row-major, row length V): lse[r] = log sum_j
// exp(z_rj); logprob[r] = z[r, target[r]] - lse[r]; and, when entropy is not null, entropy[r] =
// -sum_j p_rj log p_rj with p_r = softmax(z_r). Float32 sums. Rows run in parallel (OpenMP).
void bf16LogSoftmaxRowStats(const uint16_t* z, int64_t rows, int64_t V, const int64_t* target,
                            float* lse, float* logprob, float* entropy);

// The sampling step of generate() for rows of float32 logits x (row length V, all finite):
// token[r] drawn by inverse CDF from softmax(x_r / temperature) with the uniform u[r] in [0, 1)
// (the first token whose cumulative mass exceeds u[r] of the total, as torch.searchsorted with
// right=true over the cumsum), logprob[r] its log-prob under softmax(x_r) and, when entropy is
// not null, that distribution's entropy. One exp pass per row (two exps with a temperature)
// instead of LibTorch's divide, softmax, cumsum, search, log_softmax and gather over (rows x V).
void float32SampleRows(const float* x, int64_t rows, int64_t V, float temperature, const float* u,
                       int64_t* token, float* logprob, float* entropy);

// The gradient of sum_r g[r] * logprob[r] with respect to z, written over z in place:
// z_rj <- bf16(g[r] * ([j == target[r]] - exp(z_rj - lse[r]))).
void bf16LogprobGradInPlace(uint16_t* z, int64_t rows, int64_t V, const int64_t* target,
                            const float* lse, const float* g);

// y = bf16(bf16(silu(g)) * u) over n values: HF's act_fn(gate) * up with its rounding points.
void bf16SiluMul(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n);

// The gradients of y above for an upstream dy, s = sigmoid(g):
// du = bf16(dy * bf16(g s)), dg = bf16(dy * u * s * (1 + g (1 - s))).
void bf16SiluMulBackward(const uint16_t* g, const uint16_t* u, const uint16_t* dy, uint16_t* dg,
                         uint16_t* du, int64_t n);

}  // namespace reflab::model
