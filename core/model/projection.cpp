// Projection products (see projection.h).
#include "core/model/projection.h"

#include <torch/autograd.h>
#include <torch/nn/functional/linear.h>

#include "core/model/bf16_matmul.h"
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

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// x W^T (+ b) through bf16_matmul.h's widened float32 products, forward and backward (only
// where bf16ProductsWiden(): a CPU without AVX512-BF16). Saves x and W as they are (bf16): the
// widened copies live for one product only. The bias is an input only when there is one
// (LibTorch 1.13's custom functions do not take undefined tensors).
struct WidenedLinear {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& weight, const torch::Tensor& bias) {
        const int64_t K = x.size(-1);
        const torch::Tensor x2 = x.reshape({-1, K}).contiguous();
        ctx->save_for_backward({x2, weight});
        std::vector<int64_t> shape = x.sizes().vec();
        shape.back() = weight.size(0);
        return matmulNt(x2, weight, bias).view(shape);
    }
    static tensor_list backward(AutogradContext* ctx, const torch::Tensor& grad, bool has_bias) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &x2 = saved[0], &weight = saved[1];
        const int64_t N = weight.size(0), K = weight.size(1);
        const torch::Tensor gy = grad.contiguous().view({-1, N});
        torch::Tensor gx, gw, gb;
        if (ctx->needs_input_grad(0)) {
            std::vector<int64_t> shape = grad.sizes().vec();
            shape.back() = K;
            gx = matmulNn(gy, weight).view(shape);
        }
        if (ctx->needs_input_grad(1)) gw = matmulTn(gy, x2);
        if (!has_bias) return {gx, gw};
        if (ctx->needs_input_grad(2)) gb = gy.to(torch::kFloat32).sum(0).to(gy.scalar_type());
        return {gx, gw, gb};
    }
};
struct WidenedLinearFn : public torch::autograd::Function<WidenedLinearFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& weight) {
        return WidenedLinear::forward(ctx, x, weight, {});
    }
    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        return WidenedLinear::backward(ctx, grads[0], false);
    }
};
struct WidenedLinearBiasFn : public torch::autograd::Function<WidenedLinearBiasFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& weight, const torch::Tensor& bias) {
        return WidenedLinear::forward(ctx, x, weight, bias);
    }
    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        return WidenedLinear::backward(ctx, grads[0], true);
    }
};

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
    if (bf16ProductsWiden(x) && weight.scalar_type() == torch::kBFloat16 && M > 0) {
        const bool grad =
            torch::GradMode::is_enabled() && (x.requires_grad() || weight.requires_grad() ||
                                              (bias.defined() && bias.requires_grad()));
        if (grad)
            return bias.defined() ? WidenedLinearBiasFn::apply(x, weight, bias)
                                  : WidenedLinearFn::apply(x, weight);
        std::vector<int64_t> out_shape = x.sizes().vec();
        out_shape.back() = weight.size(0);
        return matmulNt(x.reshape({M, K}).contiguous(), weight, bias).view(out_shape);
    }
    return torch::nn::functional::linear(x, weight, bias);
}

}  // namespace reflab::model
