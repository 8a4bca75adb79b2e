// See bf16_matmul.h.
#include "core/model/bf16_matmul.h"

#include <algorithm>

#include "core/model/bf16_dot.h"

namespace reflab::model {

namespace {

// Rows of the weight widened at a time: a float32 slice of about 8 MB, so the temporary stays
// small next to the product and the slice is reread from cache by the GEMM, not from memory.
int64_t sliceRows(int64_t K) {
    return std::max<int64_t>(64, (int64_t(8) << 20) / (std::max<int64_t>(K, 1) * 4));
}

}  // namespace

bool bf16ProductsWiden(const torch::Tensor& t) {
    return t.scalar_type() == torch::kBFloat16 && t.device().is_cpu() &&
           bf16DotSupported() != Bf16Dot::Native;
}

torch::Tensor matmulNt(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& bias) {
    if (!bf16ProductsWiden(x) || w.scalar_type() != torch::kBFloat16) {
        torch::Tensor y = torch::mm(x, w.t());
        return bias.defined() ? y + bias : y;
    }
    const int64_t M = x.size(0), N = w.size(0), step = sliceRows(w.size(1));
    const torch::Tensor xf = x.to(torch::kFloat32);
    torch::Tensor y = torch::empty({M, N}, x.options());
    for (int64_t n0 = 0; n0 < N; n0 += step) {
        const int64_t n = std::min(step, N - n0);
        torch::Tensor part = xf.mm(w.narrow(0, n0, n).to(torch::kFloat32).t());
        if (bias.defined()) part.add_(bias.narrow(0, n0, n).to(torch::kFloat32));
        y.narrow(1, n0, n).copy_(part);
    }
    return y;
}

torch::Tensor matmulNn(const torch::Tensor& g, const torch::Tensor& w) {
    if (!bf16ProductsWiden(g) || w.scalar_type() != torch::kBFloat16) return torch::mm(g, w);
    const int64_t N = w.size(0), step = sliceRows(w.size(1));
    torch::Tensor acc = torch::zeros({g.size(0), w.size(1)}, g.options().dtype(torch::kFloat32));
    for (int64_t n0 = 0; n0 < N; n0 += step) {
        const int64_t n = std::min(step, N - n0);
        acc.addmm_(g.narrow(1, n0, n).to(torch::kFloat32), w.narrow(0, n0, n).to(torch::kFloat32));
    }
    return acc.to(torch::kBFloat16);
}

torch::Tensor matmulTn(const torch::Tensor& g, const torch::Tensor& x) {
    if (!bf16ProductsWiden(g) || x.scalar_type() != torch::kBFloat16) return torch::mm(g.t(), x);
    const int64_t N = g.size(1), step = sliceRows(x.size(1));
    const torch::Tensor xf = x.to(torch::kFloat32);
    torch::Tensor out = torch::empty({N, x.size(1)}, x.options());
    for (int64_t n0 = 0; n0 < N; n0 += step) {
        const int64_t n = std::min(step, N - n0);
        out.narrow(0, n0, n).copy_(g.narrow(1, n0, n).to(torch::kFloat32).t().mm(xf));
    }
    return out;
}

}  // namespace reflab::model
