// Batched teacher-forced scoring (see scoring.h).
#include "core/model/scoring.h"

#include "core/model/token_logprobs.h"

namespace reflab::model {

ScoreResult scoreTargets(const LanguageModel& model, const std::vector<ScoreRequest>& requests,
                         const ScoreOptions& options) {
    ScoreResult result;
    if (requests.empty()) return result;
    const ModelConfig& mc = model.config();
    int64_t T = 0, N = 0;
    for (size_t i = 0; i < requests.size(); ++i) {
        const ScoreRequest& r = requests[i];
        if (r.context.empty())
            throw reflab::Error(
                "scoreTargets: request " + std::to_string(i) +
                " has an empty context (at least one token must precede the target)");
        for (const auto* span : {&r.context, &r.target})
            for (int32_t id : *span)
                if (id < 0 || id >= mc.vocab_size)
                    throw reflab::Error("scoreTargets: request " + std::to_string(i) +
                                        " holds token id " + std::to_string(id) +
                                        " outside the vocabulary [0, " +
                                        std::to_string(mc.vocab_size) + ")");
        T = std::max<int64_t>(T, static_cast<int64_t>(r.context.size() + r.target.size()));
        N += static_cast<int64_t>(r.target.size());
    }
    const int64_t B = static_cast<int64_t>(requests.size());
    // Right padding: every real token sits at its natural position and the causal mask alone
    // keeps padding out of view, so no attention mask is needed at all.
    torch::Tensor ids = torch::zeros({B, T}, torch::kInt64);
    torch::Tensor rows = torch::empty({N}, torch::kInt64);  // flat (b*T + t) predicting each target
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
    if (options.temperature > 0 && options.temperature != 1.0)
        picked = picked / options.temperature;
    torch::Tensor tgt = targets.to(device);
    const TokenLogprobs scored = tokenLogprobs(picked, net.lm_head, tgt, options.entropy);
    const torch::Tensor &logprobs = scored.logprobs, &entropy = scored.entropy;
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
