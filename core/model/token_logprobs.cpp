// Token log-probs from hidden states (see token_logprobs.h).
#include "core/model/token_logprobs.h"

#include "core/model/tensor_bits.h"

#include "core/model/exp_kernels.h"
#include "core/model/projection.h"

namespace reflab::model {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

namespace {

// Without grad the logits are made this many rows at a time: (64 x 151936) bf16 is 19 MB,
// which the allocator reuses from slice to slice instead of mapping fresh pages.
constexpr int64_t kRowsPerSlice = 64;

bool fusedApplies(const torch::Tensor& hidden, const torch::Tensor& weight) {
    return hidden.device().is_cpu() && hidden.scalar_type() == torch::kBFloat16 &&
           weight.scalar_type() == torch::kBFloat16 && expKernelsAvailable();
}

struct TokenLogprobFn : public torch::autograd::Function<TokenLogprobFn> {
    static tensor_list forward(AutogradContext* ctx, const torch::Tensor& hidden,
                               const torch::Tensor& weight, const torch::Tensor& targets,
                               bool entropy) {
        const torch::Tensor h = hidden.contiguous(), t = targets.contiguous();
        torch::Tensor logits = torch::mm(h, weight.t()).contiguous();  // (N, V) bf16
        const int64_t N = h.size(0);
        auto f32 = h.options().dtype(torch::kFloat32);
        torch::Tensor lse = torch::empty({N}, f32), lp = torch::empty({N}, f32);
        torch::Tensor ent = entropy ? torch::empty({N}, f32) : torch::zeros({0}, f32);
        bf16LogSoftmaxRowStats(bf16Data(logits), N, logits.size(1), t.data_ptr<int64_t>(),
                               lse.data_ptr<float>(), lp.data_ptr<float>(),
                               entropy ? ent.data_ptr<float>() : nullptr);
        ctx->save_for_backward({h, weight, t, lse});
        // The logits are ours alone (not an input or output): backward overwrites them with
        // their own gradient instead of allocating another (N, V) tensor.
        ctx->saved_data["logits"] = logits;
        ctx->mark_non_differentiable({ent});
        return {lp, ent};
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &h = saved[0], &weight = saved[1], &t = saved[2], &lse = saved[3];
        // The gradient overwrites the saved logits, so a second backward through the same
        // graph (retain_graph) would read garbage: it is refused instead.
        TORCH_CHECK(ctx->saved_data["logits"].isTensor(),
                    "tokenLogprobs: backward through the same graph twice is not supported");
        torch::Tensor logits = ctx->saved_data["logits"].toTensor();
        ctx->saved_data["logits"] = c10::IValue();
        torch::Tensor g = grads[0].defined() ? grads[0].to(torch::kFloat32).contiguous()
                                             : torch::zeros({h.size(0)}, lse.options());
        bf16LogprobGradInPlace(reinterpret_cast<uint16_t*>(logits.data_ptr()), logits.size(0),
                               logits.size(1), t.data_ptr<int64_t>(), lse.data_ptr<float>(),
                               g.data_ptr<float>());
        torch::Tensor grad_h, grad_w;
        if (ctx->needs_input_grad(0)) grad_h = torch::mm(logits, weight);
        if (ctx->needs_input_grad(1)) {
            // The lm_head (the embedding, when tied) is a leaf whose .grad already holds the
            // previous micro-batches' sum: add this one's product into it in place rather than
            // return a fresh (V, C) tensor for autograd to add (272 MB more at the memory peak of
            // a 0.5B model's step). The first micro-batch goes through autograd as usual.
            torch::Tensor& acc = const_cast<torch::Tensor&>(weight.grad());
            if (weight.is_leaf() && acc.defined() && !acc.is_sparse() &&
                acc.scalar_type() == logits.scalar_type() && acc.is_contiguous() &&
                !torch::GradMode::is_enabled()) {
                acc.addmm_(logits.t(), h);
            } else {
                grad_w = torch::mm(logits.t(), h);
            }
        }
        return {grad_h, grad_w, torch::Tensor(), torch::Tensor()};
    }
};

TokenLogprobs fusedNoGrad(const torch::Tensor& hidden, const torch::Tensor& weight,
                          const torch::Tensor& targets, bool entropy) {
    const int64_t N = hidden.size(0);
    auto f32 = hidden.options().dtype(torch::kFloat32);
    torch::Tensor lse = torch::empty({N}, f32);
    TokenLogprobs out{torch::empty({N}, f32), entropy ? torch::empty({N}, f32) : torch::Tensor()};
    const torch::Tensor t = targets.contiguous();
    for (int64_t s = 0; s < N; s += kRowsPerSlice) {
        const int64_t n = std::min(kRowsPerSlice, N - s);
        const torch::Tensor logits = projection(hidden.narrow(0, s, n), weight, {}).contiguous();
        bf16LogSoftmaxRowStats(bf16Data(logits), n, logits.size(1), t.data_ptr<int64_t>() + s,
                               lse.data_ptr<float>() + s, out.logprobs.data_ptr<float>() + s,
                               entropy ? out.entropy.data_ptr<float>() + s : nullptr);
    }
    return out;
}

// log_softmax + gather, for devices and dtypes without the fused kernels.
TokenLogprobs eager(const torch::Tensor& hidden, const torch::Tensor& weight,
                    const torch::Tensor& targets, bool entropy) {
    const bool grad =
        torch::GradMode::is_enabled() && (hidden.requires_grad() || weight.requires_grad());
    const int64_t N = hidden.size(0);
    const int64_t slice = grad ? std::max<int64_t>(N, 1) : 256;  // the graph needs one piece
    std::vector<torch::Tensor> lp, ent;
    for (int64_t s = 0; s < N; s += slice) {
        const int64_t n = std::min(slice, N - s);
        torch::Tensor logp =
            projection(hidden.narrow(0, s, n), weight, {}).to(torch::kFloat32).log_softmax(-1);
        lp.push_back(logp.gather(1, targets.narrow(0, s, n).unsqueeze(1)).squeeze(1));
        if (entropy) {
            torch::NoGradGuard no_grad;  // a statistic: no graph, no saved (n, V) temporaries
            const torch::Tensor l = logp.detach();
            ent.push_back(-(l.exp() * l).nan_to_num(0.0).sum(-1));
        }
    }
    auto f32 = hidden.options().dtype(torch::kFloat32);
    TokenLogprobs out{N > 0 ? torch::cat(lp) : torch::empty({0}, f32), torch::Tensor()};
    if (entropy) out.entropy = N > 0 ? torch::cat(ent) : torch::empty({0}, f32);
    return out;
}

}  // namespace

TokenLogprobs tokenLogprobs(const torch::Tensor& hidden, const torch::Tensor& weight,
                            const torch::Tensor& targets, bool entropy) {
    TORCH_CHECK(hidden.dim() == 2 && weight.dim() == 2 && hidden.size(1) == weight.size(1),
                "tokenLogprobs: hidden (N, C) and weight (V, C) expected");
    TORCH_CHECK(targets.dim() == 1 && targets.size(0) == hidden.size(0) &&
                    targets.scalar_type() == torch::kInt64,
                "tokenLogprobs: targets (N) int64 expected");
    if (targets.numel() > 0) {  // the row kernels index the logits with them
        const auto [lo, hi] = torch::aminmax(targets);
        TORCH_CHECK(lo.item<int64_t>() >= 0 && hi.item<int64_t>() < weight.size(0),
                    "tokenLogprobs: a target id is outside the vocabulary [0, ", weight.size(0),
                    ")");
    }
    if (hidden.size(0) == 0 || !fusedApplies(hidden, weight))
        return eager(hidden, weight, targets, entropy);
    const bool grad =
        torch::GradMode::is_enabled() && (hidden.requires_grad() || weight.requires_grad());
    if (!grad) return fusedNoGrad(hidden, weight, targets, entropy);
    const tensor_list out = TokenLogprobFn::apply(hidden, weight, targets, entropy);
    return {out[0], entropy ? out[1] : torch::Tensor()};
}

}  // namespace reflab::model
