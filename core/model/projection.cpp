// Projection products (see projection.h).
#include "core/model/projection.h"

#include "core/model/projection_bf16.h"

namespace reflab::model {

torch::Tensor projection(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    // Decode steps (a handful of rows, no autograd) stream the weight with the bf16 kernel.
    const int64_t K = x.size(-1);
    const int64_t M = K > 0 ? x.numel() / K : 0;
    if (M > 0 && M <= 16 && x.scalar_type() == torch::kBFloat16 && weight.scalar_type() == torch::kBFloat16 &&
        x.device().is_cpu() && weight.is_contiguous() && (!bias.defined() || bias.is_contiguous()) &&
        !(torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad())) &&
        bf16GemvAvailable()) {
        std::vector<int64_t> out_shape = x.sizes().vec();
        out_shape.back() = weight.size(0);
        return bf16Gemv(x.reshape({M, K}).contiguous(), weight, bias).view(out_shape);
    }
    return torch::nn::functional::linear(x, weight, bias);
}

}  // namespace reflab::model
