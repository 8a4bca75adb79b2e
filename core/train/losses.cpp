// Policy losses: ppo_clip / policy gradient with k3 KL, token/sequence aggregation, and rgr's
// reference term.
#include "core/train/losses.h"

#include "core/train/train_error.h"

namespace reflab::train {

LossAggregation lossAggregationFromName(const std::string& name) {
    if (name == "token_mean") return LossAggregation::TokenMean;
    if (name == "seq_mean") return LossAggregation::SeqMean;
    if (name == "seq_sum") return LossAggregation::SeqSum;
    if (name == "dr_grpo") return LossAggregation::DrGrpo;
    throw TrainError("algorithm.aggregation: unknown aggregation '" + name +
                     "' (expected token_mean, seq_mean, seq_sum or dr_grpo)");
}

std::string lossAggregationName(LossAggregation aggregation) {
    switch (aggregation) {
        case LossAggregation::TokenMean:
            return "token_mean";
        case LossAggregation::SeqMean:
            return "seq_mean";
        case LossAggregation::SeqSum:
            return "seq_sum";
        case LossAggregation::DrGrpo:
            return "dr_grpo";
    }
    return "?";
}

namespace {

void checkShapes(const torch::Tensor& logp, const torch::Tensor& other, const char* name) {
    if (other.defined() && other.sizes() != logp.sizes())
        throw TrainError(std::string("policy loss: ") + name + " has shape " +
                         c10::str(other.sizes()) + ", expected " + c10::str(logp.sizes()));
}

// Aggregates per-token values (B,T) under mask (B,T) into a scalar.
torch::Tensor aggregate(const torch::Tensor& per_token, const torch::Tensor& mask,
                        const PolicyLossOptions& o) {
    const auto masked = per_token * mask;
    const double total_tokens = o.total_tokens, total_sequences = o.total_sequences;
    switch (o.aggregation) {
        case LossAggregation::TokenMean: {
            const double n = total_tokens > 0 ? total_tokens : mask.sum().item<double>();
            return masked.sum() / std::max(n, 1.0);
        }
        case LossAggregation::SeqMean: {
            const double b = total_sequences > 0 ? total_sequences : double(mask.size(0));
            const auto per_seq = masked.sum(1) / mask.sum(1).clamp_min(1.0);  // (B)
            return per_seq.sum() / std::max(b, 1.0);
        }
        case LossAggregation::SeqSum: {
            const double b = total_sequences > 0 ? total_sequences : double(mask.size(0));
            return masked.sum() / std::max(b, 1.0);
        }
        case LossAggregation::DrGrpo: {
            if (o.max_completion_length <= 0)
                throw TrainError(
                    "policy loss: aggregation dr_grpo needs the maximum completion "
                    "length (generation.max_new_tokens)");
            const double b = total_sequences > 0 ? total_sequences : double(mask.size(0));
            return masked.sum() / (std::max(b, 1.0) * o.max_completion_length);
        }
    }
    return masked.sum();
}

}  // namespace

PolicyLossTerms policyLoss(const torch::Tensor& logp, const torch::Tensor& old_logp,
                           const torch::Tensor& advantages, const torch::Tensor& mask,
                           const torch::Tensor& ref_logp, const PolicyLossOptions& options) {
    if (logp.dim() != 2)
        throw TrainError("policy loss: logp must be (B,T), got " + c10::str(logp.sizes()));
    checkShapes(logp, old_logp, "old_logp");
    checkShapes(logp, mask, "mask");
    checkShapes(logp, ref_logp, "ref_logp");
    if (advantages.dim() != 1 || advantages.size(0) != logp.size(0))
        throw TrainError("policy loss: advantages must be (B) with B = " +
                         std::to_string(logp.size(0)) + ", got " + c10::str(advantages.sizes()));
    const auto m = mask.to(logp.scalar_type());
    const auto adv = advantages.to(logp.scalar_type()).unsqueeze(1);  // (B,1)
    PolicyLossTerms out;
    out.tokens = static_cast<int64_t>(m.sum().item<double>());
    const double denom = std::max<double>(out.tokens, 1.0);

    torch::Tensor per_token;
    if (options.clip) {
        const double eps_high =
            options.clip_eps_high < 0 ? options.clip_eps : options.clip_eps_high;
        const auto ratio = torch::exp(logp - old_logp.detach());  // (B,T)
        const auto clipped = torch::clamp(ratio, 1.0 - options.clip_eps, 1.0 + eps_high);
        per_token = -torch::min(ratio * adv, clipped * adv);
        torch::NoGradGuard ng;
        const auto low = (ratio < 1.0 - options.clip_eps) & (adv < 0);
        const auto high = (ratio > 1.0 + eps_high) & (adv > 0);
        out.clip_frac = ((low | high).to(m.scalar_type()) * m).sum().item<double>() / denom;
        out.ratio_mean = (ratio * m).sum().item<double>() / denom;
    } else {
        per_token = -adv * logp;
        out.ratio_mean = 1.0;
    }
    if (ref_logp.defined()) {
        const auto d = ref_logp.detach() - logp;  // log(pi_ref / pi)
        const auto k3 = torch::exp(d) - d - 1.0;  // (B,T)
        {
            torch::NoGradGuard ng;
            out.kl = (k3 * m).sum().item<double>() / denom;
        }
        if (options.kl_coef != 0.0) per_token = per_token + options.kl_coef * k3;
    }
    out.loss = aggregate(per_token, m, options);
    return out;
}

torch::Tensor referenceTermLoss(const torch::Tensor& ref_logp, const torch::Tensor& ref_mask,
                                const torch::Tensor& weights, bool length_norm,
                                const PolicyLossOptions& options) {
    if (ref_logp.dim() != 2 || ref_mask.sizes() != ref_logp.sizes())
        throw TrainError("reference term: ref_logp and ref_mask must be (B,T) alike, got " +
                         c10::str(ref_logp.sizes()) + " and " + c10::str(ref_mask.sizes()));
    if (weights.dim() != 1 || weights.size(0) != ref_logp.size(0))
        throw TrainError("reference term: weights must be (B), got " + c10::str(weights.sizes()));
    const auto m = ref_mask.to(ref_logp.scalar_type());
    auto w = weights.detach().to(ref_logp.scalar_type()).unsqueeze(1);  // (B,1)
    if (length_norm && options.aggregation != LossAggregation::SeqMean)
        w = w / m.sum(1, /*keepdim=*/true).clamp_min(1.0);
    return aggregate(-w * ref_logp, m, options);
}

std::pair<torch::Tensor, torch::Tensor> padSequences(const std::vector<torch::Tensor>& seqs) {
    int64_t t_max = 0;
    for (const auto& s : seqs) t_max = std::max<int64_t>(t_max, s.numel());
    const auto dtype = seqs.empty() ? torch::kFloat32 : seqs.front().scalar_type();
    std::vector<torch::Tensor> rows, masks;
    rows.reserve(seqs.size());
    for (const auto& s : seqs) {
        const int64_t pad = t_max - s.numel();
        rows.push_back(torch::constant_pad_nd(s.reshape({-1}), {0, pad}, 0.0));
        auto mk = torch::zeros({t_max}, torch::dtype(dtype));
        if (s.numel() > 0) mk.slice(0, 0, s.numel()).fill_(1.0);
        masks.push_back(mk);
    }
    if (rows.empty()) return {torch::zeros({0, 0}), torch::zeros({0, 0})};
    return {torch::stack(rows), torch::stack(masks)};
}

}  // namespace reflab::train
