// Batched teacher-forced scoring (see scoring.h).
#include "core/model/scoring.h"

namespace reflab::model {

namespace {
// Without grad the (N, V) float32 logits are produced in slices of this many rows, which
// bounds memory (N x 151936 floats adds up fast) at no cost in speed.
constexpr int64_t kRowsPerSlice = 256;
}  // namespace

ScoreResult scoreTargets(const LanguageModel& model, const std::vector<ScoreRequest>& requests,
                         const ScoreOptions& options) {
    ScoreResult result;
    if (requests.empty()) return result;
    const ModelConfig& mc = model.config();
    int64_t T = 0, N = 0;
    for (size_t i = 0; i < requests.size(); ++i) {
        const ScoreRequest& r = requests[i];
        if (r.context.empty())
            throw reflab::Error("scoreTargets: request " + std::to_string(i) +
                                " has an empty context (at least one token must precede the target)");
        for (const auto* span : {&r.context, &r.target})
            for (int32_t id : *span)
                if (id < 0 || id >= mc.vocab_size)
                    throw reflab::Error("scoreTargets: request " + std::to_string(i) + " holds token id " +
                                        std::to_string(id) + " outside the vocabulary [0, " +
                                        std::to_string(mc.vocab_size) + ")");
        T = std::max<int64_t>(T, static_cast<int64_t>(r.context.size() + r.target.size()));
        N += static_cast<int64_t>(r.target.size());
    }
    const int64_t B = static_cast<int64_t>(requests.size());
    // Right padding: every real token sits at its natural position and the causal mask alone
    // keeps padding out of view, so no attention mask is needed at all.
    torch::Tensor ids = torch::zeros({B, T}, torch::kInt64);
    torch::Tensor rows = torch::empty({N}, torch::kInt64);     // flat (b*T + t) predicting each target
    torch::Tensor targets = torch::empty({N}, torch::kInt64);
    {
        auto ia = ids.accessor<int64_t, 2>();
        auto ra = rows.accessor<int64_t, 1>();
        auto ta = targets.accessor<int64_t, 1>();
        int64_t n = 0;
        for (int64_t b = 0; b < B; ++b) {
            const ScoreRequest& r = requests[b];
            const int64_t C = static_cast<int64_t>(r.context.size());
            for (int64_t t = 0; t < C; ++t) ia[b][t] = r.context[t];
            for (int64_t j = 0; j < static_cast<int64_t>(r.target.size()); ++j) {
                ia[b][C + j] = r.target[j];
                ra[n] = b * T + C + j - 1;
                ta[n] = r.target[j];
                ++n;
            }
        }
    }
    const torch::Device device = model.device();
    std::optional<c10::InferenceMode> inference;
    if (!options.with_grad) inference.emplace();
    TransformerImpl& net = model.transformer();

    torch::Tensor hidden = net.hidden(ids.to(device), {});  // (B, T, C)
    torch::Tensor picked = hidden.reshape({B * T, -1}).index_select(0, rows.to(device));  // (N, C)
    torch::Tensor tgt = targets.to(device);
    torch::Tensor logprobs, entropy;
    if (options.with_grad) {
        torch::Tensor logp = net.logits(picked).log_softmax(-1);  // (N, V)
        logprobs = logp.gather(1, tgt.unsqueeze(1)).squeeze(1);
        if (options.entropy) {  // a statistic only: no graph, no saved (N, V) temporaries
            torch::NoGradGuard no_grad;
            entropy = -(logp.detach().exp() * logp.detach()).nan_to_num(0.0).sum(-1);
        }
    } else {
        std::vector<torch::Tensor> lp_parts, ent_parts;
        for (int64_t s = 0; s < N; s += kRowsPerSlice) {
            const int64_t n = std::min(kRowsPerSlice, N - s);
            torch::Tensor logp = net.logits(picked.narrow(0, s, n)).log_softmax(-1);  // (n, V)
            lp_parts.push_back(logp.gather(1, tgt.narrow(0, s, n).unsqueeze(1)).squeeze(1));
            if (options.entropy) ent_parts.push_back(-(logp.exp() * logp).nan_to_num(0.0).sum(-1));
        }
        logprobs = N > 0 ? torch::cat(lp_parts) : torch::empty({0}, torch::kFloat32);
        if (options.entropy) entropy = N > 0 ? torch::cat(ent_parts) : torch::empty({0}, torch::kFloat32);
    }
    int64_t off = 0;
    for (const ScoreRequest& r : requests) {
        const int64_t n = static_cast<int64_t>(r.target.size());
        result.logprobs.push_back(logprobs.narrow(0, off, n));
        if (options.entropy) result.entropy.push_back(entropy.narrow(0, off, n));
        off += n;
    }
    return result;
}

}  // namespace reflab::model
