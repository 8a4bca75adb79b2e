// Batched KV-cache generation (see generation.h).
#include "core/model/generation.h"

#include "core/model/exp_kernels.h"

#include <chrono>
#include <functional>
#include <limits>
#include <map>

namespace reflab::model {

std::string finishReasonName(FinishReason r) {
    switch (r) {
        case FinishReason::Eos:
            return "eos";
        case FinishReason::StopString:
            return "stop";
        case FinishReason::Length:
            return "length";
    }
    return "length";
}

namespace {
thread_local GenerationStats g_stats;
using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}
}  // namespace

const GenerationStats& lastGenerationStats() {
    return g_stats;
}

namespace {

// (B, 1) uniforms in [0, 1): the draw of one sampling step.
using UniformDraw = std::function<torch::Tensor(int64_t rows, const torch::TensorOptions&)>;

torch::Tensor sampleWith(const torch::Tensor& logits, const SamplingConfig& cfg,
                         const UniformDraw& uniforms) {
    if (cfg.greedy || cfg.temperature <= 0) return logits.argmax(-1);
    torch::Tensor scores = logits / cfg.temperature;  // (B, V)
    const int64_t V = scores.size(-1);
    if (cfg.top_k > 0 && cfg.top_k < V) {
        // Keep the k largest (ties at the k-th value kept too, as HF's top-k warper does).
        torch::Tensor kth = std::get<0>(scores.topk(cfg.top_k, -1)).narrow(-1, cfg.top_k - 1, 1);
        scores = scores.masked_fill(scores < kth, -std::numeric_limits<float>::infinity());
    }
    if (cfg.top_p < 1.0) {
        // HF's top-p: sort ascending, drop the tokens whose cumulative mass stays <= 1 - p,
        // always keeping the most likely one.
        auto sorted = scores.sort(-1, /*descending=*/false);
        torch::Tensor sorted_scores = std::get<0>(sorted), order = std::get<1>(sorted);
        torch::Tensor cum = sorted_scores.softmax(-1).cumsum(-1);
        torch::Tensor remove_sorted = cum <= (1.0 - cfg.top_p);
        remove_sorted.narrow(-1, V - 1, 1).fill_(false);
        torch::Tensor remove = remove_sorted.scatter(-1, order, remove_sorted);
        scores = scores.masked_fill(remove, -std::numeric_limits<float>::infinity());
    }
    // Inverse-CDF draw: one uniform per row. torch::multinomial draws an exponential for every
    // vocabulary entry (150k per row per token), which cost more than the row's arithmetic.
    torch::Tensor cdf = scores.softmax(-1).cumsum(-1);  // (B, V)
    torch::Tensor u = uniforms(cdf.size(0), cdf.options()) * cdf.narrow(-1, V - 1, 1);
    // right=true: the first token whose cumulative mass exceeds u, so never a zero-mass token.
    return torch::searchsorted(cdf, u, /*out_int32=*/false, /*right=*/true)
        .squeeze(-1)
        .clamp_max(V - 1);
}

// Plain sampling (no top-k / top-p cut) of float32 CPU logits on an AVX-512 CPU goes through
// the fused row kernel; the cuts, greedy decoding and other devices keep LibTorch's ops.
bool fusedSamplingApplies(const torch::Tensor& logits, const SamplingConfig& cfg) {
    return !cfg.greedy && cfg.temperature > 0 && cfg.top_p >= 1.0 &&
           (cfg.top_k <= 0 || cfg.top_k >= logits.size(-1)) && logits.dim() == 2 &&
           logits.scalar_type() == torch::kFloat32 && logits.device().is_cpu() &&
           logits.is_contiguous() && expKernelsAvailable();
}

}  // namespace

torch::Tensor sampleTokens(const torch::Tensor& logits, const SamplingConfig& cfg,
                           at::Generator& gen) {
    return sampleWith(logits, cfg, [&gen](int64_t rows, const torch::TensorOptions& o) {
        return torch::rand({rows, 1}, gen, o);
    });
}

namespace {

std::vector<Generation> generateWith(const LanguageModel& model,
                                     const std::vector<std::vector<int32_t>>& prompts,
                                     const SamplingConfig& cfg, const UniformDraw& uniforms) {
    g_stats = {};
    if (prompts.empty()) return {};
    if (cfg.max_new_tokens < 0) throw reflab::Error("generate: max_new_tokens must be >= 0");
    if (!cfg.stop_strings.empty() && !model.hasTokenizer())
        throw reflab::Error("generate: stop strings need a tokenizer and the model has none");
    c10::InferenceMode guard;
    TransformerImpl& net = model.transformer();
    const ModelConfig& mc = model.config();
    const torch::Device device = model.device();

    // Identical prompts (the G copies of a group) are prefilled once.
    std::map<std::vector<int32_t>, int64_t> unique_of;
    std::vector<const std::vector<int32_t>*> uniques;
    std::vector<int64_t> row_source;
    int64_t Tp = 0;
    for (const auto& p : prompts) {
        if (p.empty())
            throw reflab::Error("generate: a prompt is empty (at least one token needed)");
        for (int32_t id : p)
            if (id < 0 || id >= mc.vocab_size)
                throw reflab::Error("generate: prompt token id " + std::to_string(id) +
                                    " is outside the vocabulary [0, " +
                                    std::to_string(mc.vocab_size) + ")");
        auto it = unique_of.find(p);
        if (it == unique_of.end()) {
            it = unique_of.emplace(p, static_cast<int64_t>(uniques.size())).first;
            uniques.push_back(&it->first);
        }
        row_source.push_back(it->second);
        Tp = std::max<int64_t>(Tp, static_cast<int64_t>(p.size()));
    }
    const int64_t U = static_cast<int64_t>(uniques.size()),
                  B = static_cast<int64_t>(prompts.size());
    const int64_t capacity = Tp + std::max<int64_t>(cfg.max_new_tokens, 1);

    // Left-padded prompt batch (U, Tp).
    const int32_t pad =
        mc.pad_token_id.value_or(mc.eos_token_ids.empty() ? 0 : mc.eos_token_ids[0]);
    torch::Tensor ids = torch::full({U, Tp}, pad, torch::kInt64);
    torch::Tensor mask = torch::zeros({U, Tp}, torch::kInt64);
    for (int64_t u = 0; u < U; ++u) {
        const auto& p = *uniques[u];
        const int64_t off = Tp - static_cast<int64_t>(p.size());
        auto acc = ids.accessor<int64_t, 2>();
        auto macc = mask.accessor<int64_t, 2>();
        for (size_t j = 0; j < p.size(); ++j) {
            acc[u][off + j] = p[j];
            macc[u][off + j] = 1;
        }
    }

    auto t0 = Clock::now();
    KvCache cache = net.newCache(U, capacity);
    torch::Tensor h = net.hiddenCached(ids.to(device), mask.to(device), cache);  // (U, Tp, C)
    torch::Tensor logits = net.logits(h.select(1, Tp - 1));                      // (U, V)
    if (U != B) {
        torch::Tensor rows = torch::tensor(row_source, torch::kInt64).to(device);
        cache = cache.selectRows(rows);
        logits = logits.index_select(0, rows);
    }
    logits = logits.to(torch::kCPU);
    g_stats.prefill_seconds = secondsSince(t0);
    g_stats.prefill_tokens = U * Tp;

    std::vector<Generation> out(B);
    std::vector<bool> done(B, false);
    size_t max_stop = 0;
    for (const auto& s : cfg.stop_strings) max_stop = std::max(max_stop, s.size());
    const auto& eos = mc.eos_token_ids;
    auto t1 = Clock::now();
    for (int64_t step = 0; step < cfg.max_new_tokens; ++step) {
        const auto ts = Clock::now();
        torch::Tensor next, lp, ent;
        if (fusedSamplingApplies(logits, cfg)) {
            // One pass per row (exp_kernels.h); the same uniform per row as sampleWith draws.
            const torch::Tensor u = uniforms(B, logits.options()).contiguous();
            next = torch::empty({B}, torch::kInt64);
            lp = torch::empty({B}, torch::kFloat32);
            ent = cfg.entropy ? torch::empty({B}, torch::kFloat32)
                              : torch::zeros({B}, torch::kFloat32);
            float32SampleRows(logits.data_ptr<float>(), B, logits.size(1),
                              static_cast<float>(cfg.temperature), u.data_ptr<float>(),
                              next.data_ptr<int64_t>(), lp.data_ptr<float>(),
                              cfg.entropy ? ent.data_ptr<float>() : nullptr);
        } else {
            next = sampleWith(logits, cfg, uniforms);          // (B)
            const torch::Tensor lsm = logits.log_softmax(-1);  // (B, V)
            lp = lsm.gather(1, next.unsqueeze(1)).squeeze(1);  // (B)
            // H = -sum p log p; a -inf log-prob (p = 0) is clamped so that 0 * log p stays 0.
            ent = cfg.entropy
                      ? -(lsm.exp() * lsm.clamp_min(std::numeric_limits<float>::lowest())).sum(-1)
                      : torch::zeros({B}, torch::kFloat32);
        }
        auto nacc = next.accessor<int64_t, 1>();
        auto lacc = lp.accessor<float, 1>();
        auto eacc = ent.accessor<float, 1>();
        bool all_done = true;
        for (int64_t b = 0; b < B; ++b) {
            if (done[b]) continue;
            Generation& g = out[b];
            const int32_t tok = static_cast<int32_t>(nacc[b]);
            g.tokens.push_back(tok);
            g.logprobs.push_back(lacc[b]);
            if (cfg.entropy) g.entropies.push_back(eacc[b]);
            if (!cfg.ignore_eos && std::find(eos.begin(), eos.end(), tok) != eos.end()) {
                g.finish = FinishReason::Eos;
                done[b] = true;
            } else if (max_stop > 0) {
                // Only the tail can hold a stop string that was not there one token ago.
                const size_t n = std::min(g.tokens.size(), max_stop + 2);
                std::vector<int32_t> tail(g.tokens.end() - static_cast<std::ptrdiff_t>(n),
                                          g.tokens.end());
                const std::string text = model.tokenizer().decode(tail);
                for (const auto& s : cfg.stop_strings)
                    if (!s.empty() && text.find(s) != std::string::npos) {
                        g.finish = FinishReason::StopString;
                        done[b] = true;
                        break;
                    }
            }
            all_done = all_done && done[b];
        }
        g_stats.generated_tokens = 0;
        for (const auto& g : out) g_stats.generated_tokens += static_cast<int64_t>(g.tokens.size());
        g_stats.sample_seconds += secondsSince(ts);
        if (all_done || step + 1 == cfg.max_new_tokens) break;
        // Finished rows keep decoding their last token (their output is no longer read).
        torch::Tensor h1 = net.hiddenCached(next.view({B, 1}).to(device), {}, cache);  // (B, 1, C)
        logits = net.logits(h1.select(1, 0)).to(torch::kCPU);                          // (B, V)
        ++g_stats.decode_steps;
    }
    g_stats.decode_seconds = secondsSince(t1);
    if (model.hasTokenizer())
        for (auto& g : out) g.text = model.tokenizer().decode(g.tokens);
    return out;
}

}  // namespace

std::vector<Generation> generate(const LanguageModel& model,
                                 const std::vector<std::vector<int32_t>>& prompts,
                                 const SamplingConfig& cfg, at::Generator& gen) {
    return generateWith(model, prompts, cfg, [&gen](int64_t rows, const torch::TensorOptions& o) {
        return torch::rand({rows, 1}, gen, o);
    });
}

std::vector<Generation> generate(const LanguageModel& model,
                                 const std::vector<std::vector<int32_t>>& prompts,
                                 const SamplingConfig& cfg,
                                 std::vector<at::Generator>& row_generators) {
    if (row_generators.size() != prompts.size())
        throw reflab::Error("generate: " + std::to_string(row_generators.size()) +
                            " row generators for " + std::to_string(prompts.size()) + " prompts");
    return generateWith(model, prompts, cfg,
                        [&row_generators](int64_t rows, const torch::TensorOptions& o) {
                            std::vector<torch::Tensor> u;
                            u.reserve(static_cast<size_t>(rows));
                            for (int64_t b = 0; b < rows; ++b)
                                u.push_back(torch::rand({1}, row_generators[b], o));
                            return torch::stack(u);
                        });
}

}  // namespace reflab::model
