// Model benchmarks (see model_bench.h).
#include "core/model/model_bench.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include <chrono>

#include "core/model/flop_count.h"
#include "core/model/generation.h"
#include "core/model/language_model.h"
#include "core/model/roofline.h"
#include "core/model/scoring.h"

namespace reflab::model {

namespace {
using Clock = std::chrono::steady_clock;

// One model per process: loading (or building) the 0.5B model takes seconds.
std::shared_ptr<LanguageModel> benchModel(const ModelBenchOptions& o) {
    static std::shared_ptr<LanguageModel> cached;
    static std::string key;
    const std::string k = o.model_dir + "|" + o.dtype + "|" + o.device;
    if (!cached || key != k) {
        const LoadOptions lo = loadOptionsFrom(o.dtype, o.device);
        cached = o.model_dir.empty() ? LanguageModel::random(qwen25HalfBConfig(), lo, o.seed)
                                     : LanguageModel::load(o.model_dir, lo);
        key = k;
    }
    return cached;
}

std::vector<std::vector<int32_t>> randomPrompts(int64_t n, int64_t len, int64_t vocab,
                                                uint64_t seed) {
    auto gen = at::detail::createCPUGenerator(seed);
    // Ordinary token ids (the first 1000 are bytes and common pieces in every BPE vocab).
    torch::Tensor ids =
        torch::randint(0, std::min<int64_t>(vocab, 30000), {n, len}, gen, torch::kInt64);
    std::vector<std::vector<int32_t>> out(n);
    auto a = ids.accessor<int64_t, 2>();
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < len; ++j) out[i].push_back(static_cast<int32_t>(a[i][j]));
    return out;
}

int64_t weightBytes(const LanguageModel& m) {
    int64_t bytes = 0;
    for (const auto& p : m.parameters()) bytes += p.numel() * p.element_size();
    // A tied lm_head reads the embedding a second time per step (the lookup reads one row).
    if (m.config().tie_word_embeddings)
        bytes += m.config().vocab_size * m.config().hidden_size * m.parameters()[0].element_size();
    // The embedding lookup itself reads only B rows.
    bytes -= m.config().vocab_size * m.config().hidden_size * m.parameters()[0].element_size();
    return bytes;
}
}  // namespace

nlohmann::json benchRoofline(const ModelBenchOptions& o) {
    const LoadOptions lo = loadOptionsFrom(o.dtype, o.device);
    const Roofline r = measureRoofline(lo.dtype, lo.device, 1.0);
    const int64_t n = r.gemm_n;
    return {{"gemm_gflops", r.gemm_gflops},
            // The product the rate was measured on, so a reader can rerun it elsewhere.
            {"gemm_shape", {{"m", n}, {"k", n}, {"n", n}, {"dtype", o.dtype}}},
            {"bandwidth_gbs", r.bandwidth_gbs},
            {"dtype", o.dtype},
            {"device", o.device}};
}

nlohmann::json benchGenerate(const ModelBenchOptions& o, double bandwidth_gbs) {
    auto model = benchModel(o);
    const int64_t V = model->config().vocab_size;
    SamplingConfig cfg;
    cfg.max_new_tokens = o.new_tokens;
    cfg.temperature = 1.0;
    cfg.ignore_eos = true;  // every row runs the full length: a fixed amount of work
    auto gen = at::detail::createCPUGenerator(o.seed);
    // Warm-up (oneDNN primitives, allocator) on a short run.
    {
        SamplingConfig w = cfg;
        w.max_new_tokens = 4;
        generate(*model, randomPrompts(o.batch, o.prompt_tokens, V, o.seed + 1), w, gen);
    }
    const auto prompts = randomPrompts(o.batch, o.prompt_tokens, V, o.seed);
    auto t0 = Clock::now();
    auto out = generate(*model, prompts, cfg, gen);
    const double total = std::chrono::duration<double>(Clock::now() - t0).count();
    const GenerationStats st = lastGenerationStats();
    int64_t generated = 0;
    for (const auto& g : out) generated += static_cast<int64_t>(g.tokens.size());
    nlohmann::json j = {
        {"batch", o.batch},
        {"prompt_tokens", o.prompt_tokens},
        {"new_tokens", o.new_tokens},
        {"seconds", total},
        {"generated_tokens", generated},
        {"tokens_per_s", generated / total},
        {"prefill_tokens_per_s", st.prefill_tokens / st.prefill_seconds},
        {"decode_tokens_per_s", st.decode_steps * o.batch / std::max(st.decode_seconds, 1e-9)},
    };
    // Batch-1 decode: bytes of weights streamed per token against the measured bandwidth.
    SamplingConfig c1 = cfg;
    c1.max_new_tokens = std::max<int64_t>(16, o.new_tokens / 2);
    generate(*model, randomPrompts(1, o.prompt_tokens, V, o.seed + 2), c1, gen);
    const GenerationStats s1 = lastGenerationStats();
    const double tps1 = s1.decode_steps / std::max(s1.decode_seconds, 1e-9);
    const double gbs = tps1 * static_cast<double>(weightBytes(*model)) / 1e9;
    j["batch1_decode_tokens_per_s"] = tps1;
    j["batch1_decode_gbs"] = gbs;
    j["weight_bytes_per_token"] = weightBytes(*model);
    if (bandwidth_gbs > 0) j["batch1_bandwidth_fraction"] = gbs / bandwidth_gbs;
    j["model"] = o.model_dir.empty() ? "random qwen2.5-0.5b-shaped" : o.model_dir;
    j["dtype"] = o.dtype;
    return j;
}

nlohmann::json benchScore(const ModelBenchOptions& o) {
    auto model = benchModel(o);
    const int64_t V = model->config().vocab_size;
    const int64_t ctx = o.score_tokens / 2, tgt = o.score_tokens - ctx;
    auto seqs = randomPrompts(o.score_sequences, o.score_tokens, V, o.seed + 3);
    std::vector<ScoreRequest> reqs;
    for (const auto& s : seqs)
        reqs.push_back({std::vector<int32_t>(s.begin(), s.begin() + ctx),
                        std::vector<int32_t>(s.begin() + ctx, s.end())});
    scoreTargets(*model, std::vector<ScoreRequest>(reqs.begin(), reqs.begin() + 1));  // warm-up
    double best = 1e30;
    for (int rep = 0; rep < 3; ++rep) {
        auto t0 = Clock::now();
        ScoreResult r = scoreTargets(*model, reqs);
        if (model->device().is_cuda()) torch::cuda::synchronize();
        best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    // The lm_head runs on the target positions only (scoring.h): the headline is target
    // tokens per second, the rate over every position (context included) stands beside it.
    const double tokens = static_cast<double>(o.score_sequences * o.score_tokens);
    const double targets = static_cast<double>(o.score_sequences * tgt);
    const double flops = forwardFlops(model->config(), tokens, targets);
    return {{"tokens_per_s", targets / best},
            {"tokens_per_s_counts", "target tokens (positions scored by the lm_head)"},
            {"target_tokens_per_s", targets / best},
            {"all_tokens_per_s", tokens / best},
            {"sequences", o.score_sequences},
            {"tokens_per_sequence", o.score_tokens},
            {"target_tokens_per_sequence", tgt},
            {"tokens", tokens},
            {"target_tokens", targets},
            {"flops", flops},
            {"gflops", flops / best / 1e9},
            {"seconds", best}};
}

}  // namespace reflab::model
