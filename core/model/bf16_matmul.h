// Matrix products of bfloat16 CPU tensors with float32 sums and one rounding, on the CPU's
// fastest path. Where the CPU multiplies bf16 natively (AVX512-BF16, and AMX with it) that is
// LibTorch's own product (oneDNN). Where it does not, oneDNN emulates bf16 at a fraction of the
// float32 GEMM's rate (measured on a 2-core Intel Xeon without AVX512-BF16: 55-60 GFLOP/s
// against 290-300 for float32), so the operands are widened to float32, the weight a slice of
// rows at a time (a bounded temporary, no second copy of the model), and multiplied by the
// float32 GEMM: the same float32 sums of the same bf16 values, rounded once at the end.
// Other dtypes and devices go straight to torch::mm. No autograd here: the callers' autograd
// functions (projection.cpp, fused_ops.cpp) call these in forward and backward.
#pragma once
#include <torch/types.h>

namespace reflab::model {

// True when bf16 products on tensors like `t` should widen to float32 (bf16, CPU, and a CPU
// without AVX512-BF16).
bool bf16ProductsWiden(const torch::Tensor& t);

// x (M, K) @ w^T with w (N, K), plus bias (N) when defined -> (M, N).
torch::Tensor matmulNt(const torch::Tensor& x, const torch::Tensor& w,
                       const torch::Tensor& bias = {});
// g (M, N) @ w with w (N, K) -> (M, K): a projection's input gradient.
torch::Tensor matmulNn(const torch::Tensor& g, const torch::Tensor& w);
// g^T @ x with g (M, N), x (M, K) -> (N, K): a projection's weight gradient.
torch::Tensor matmulTn(const torch::Tensor& g, const torch::Tensor& x);

}  // namespace reflab::model
