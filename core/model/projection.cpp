// Projection products (see projection.h).
#include "core/model/projection.h"

#include <torch/nn/functional/linear.h>
#include "core/model/projection_bf16.h"

namespace reflab::model {

namespace {
// Decode steps (a handful of rows, no autograd) stream the weight with the bf16 kernel.
bool useGemv(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor* bias) {
    const int64_t K = x.size(-1);
    const int64_t M = K > 0 ? x.numel() / K : 0;
    return M > 0 && M <= kGemvMaxRows && x.scalar_type() == torch::kBFloat16 &&
           weight.scalar_type() == torch::kBFloat16 && x.device().is_cpu() &&
           weight.is_contiguous() && (!bias || !bias->defined() || bias->is_contiguous()) &&
           !(torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad())) &&
           bf16GemvAvailable();
}
}  // namespace

std::vector<torch::Tensor> projectionMany(
    const torch::Tensor& x,
    const std::vector<std::pair<const torch::Tensor*, const torch::Tensor*>>& weights) {
    bool gemv = true;
    for (const auto& [w, b] : weights) gemv = gemv && useGemv(x, *w, b);
    std::vector<torch::Tensor> out;
    if (!gemv) {
        for (const auto& [w, b] : weights)
            out.push_back(projection(x, *w, b ? *b : torch::Tensor()));
        return out;
    }
    const int64_t K = x.size(-1), M = x.numel() / K;
    std::vector<GemvWeight> gw;
    for (const auto& [w, b] : weights) gw.push_back({w, b});
    out = bf16GemvMany(x.reshape({M, K}).contiguous(), gw);
    for (size_t i = 0; i < out.size(); ++i) {
        std::vector<int64_t> shape = x.sizes().vec();
        shape.back() = weights[i].first->size(0);
        out[i] = out[i].view(shape);
    }
    return out;
}

torch::Tensor projection(const torch::Tensor& x, const torch::Tensor& weight,
                         const torch::Tensor& bias) {
    const int64_t K = x.size(-1);
    const int64_t M = K > 0 ? x.numel() / K : 0;
    if (useGemv(x, weight, &bias)) {
        std::vector<int64_t> out_shape = x.sizes().vec();
        out_shape.back() = weight.size(0);
        return bf16Gemv(x.reshape({M, K}).contiguous(), weight, bias).view(out_shape);
    }
    return torch::nn::functional::linear(x, weight, bias);
}

}  // namespace reflab::model
