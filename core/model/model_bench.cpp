// Model benchmarks (see model_bench.h).
#include "core/model/model_bench.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include <chrono>

#include "core/model/bf16_dot.h"
#include "core/model/cpu_caches.h"
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
    const Roofline r = measureRoofline(lo.dtype, lo.device, 1.5);
    const int64_t n = r.gemm_n;
    nlohmann::json methods = nlohmann::json::object();
    for (const auto& [name, gbs] : r.bandwidth_methods) methods[name] = gbs;
    const CpuCaches& caches = cpuCaches();
    return {{"gemm_gflops", r.gemm_gflops},
            // Both rates the bound is the larger of (roofline.h: measureGemmBound).
            {"gemm_dtype_gflops", r.gemm_dtype_gflops},
            {"gemm_float32_gflops", r.gemm_float32_gflops},
            // The product the rate was measured on, so a reader can rerun it elsewhere.
            {"gemm_shape", {{"m", n}, {"k", n}, {"n", n}, {"dtype", o.dtype}}},
            {"bandwidth_gbs", r.bandwidth_gbs},
            {"bandwidth_method", r.bandwidth_method},
            {"bandwidth_methods_gbs", methods},
            {"bandwidth_buffer_bytes", r.bandwidth_buffer_bytes},
            {"threads", {{"intra_op", r.intra_op_threads}, {"openmp", r.omp_threads}}},
            {"caches", {{"l1d", caches.l1d}, {"l2", caches.l2}, {"l3", caches.l3}}},
            {"prefetch_ahead_bytes", prefetchAheadBytes()},
            {"dtype", o.dtype},
            {"device", o.device}};
}

namespace {
// One timed generate() of `rows` rows (prompts of `group` identical copies each, as the trainer
// batches a step's groups) after a short warm-up at the same shape.
GenerationStats timedGenerate(LanguageModel& model, const SamplingConfig& cfg, int64_t rows,
                              int64_t group, int64_t prompt_tokens, uint64_t seed,
                              at::Generator& gen, double* seconds, int64_t* generated) {
    auto prompts = [&](uint64_t s) {
        const auto unique =
            randomPrompts((rows + group - 1) / group, prompt_tokens, model.config().vocab_size, s);
        std::vector<std::vector<int32_t>> p;
        for (int64_t r = 0; r < rows; ++r) p.push_back(unique[r / group]);
        return p;
    };
    SamplingConfig w = cfg;  // warm-up: oneDNN primitives, allocator, the cache's pages
    w.max_new_tokens = 4;
    generate(model, prompts(seed + 1), w, gen);
    const auto p = prompts(seed);
    auto t0 = Clock::now();
    auto out = generate(model, p, cfg, gen);
    if (seconds) *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (generated) {
        *generated = 0;
        for (const auto& g : out) *generated += static_cast<int64_t>(g.tokens.size());
    }
    return lastGenerationStats();
}

// The decode figures of one run against the same run's roofline: a decode step reads every
// weight once (weight_bytes) and does 2 x rows x parameters FLOPs, so it can take no less
// than max(bytes / bandwidth, flops / GEMM rate); what it takes beyond the weight read (or
// beyond that bound) is overhead: per-op dispatch, allocation, attention, sampling.
nlohmann::json decodeFigures(const GenerationStats& st, int64_t rows, double weight_bytes,
                             double flops_per_step, double bandwidth_gbs, double gemm_gflops) {
    const double steps = static_cast<double>(std::max<int64_t>(st.decode_steps, 1));
    const double step_s = std::max(st.decode_seconds, 1e-9) / steps;
    const double read_s = bandwidth_gbs > 0 ? weight_bytes / (bandwidth_gbs * 1e9) : 0;
    const double compute_s = gemm_gflops > 0 ? flops_per_step / (gemm_gflops * 1e9) : 0;
    const double bound_s = std::max(read_s, compute_s);
    const double tps = static_cast<double>(rows) / step_s;
    nlohmann::json j = {{"rows", rows},
                        {"decode_steps", st.decode_steps},
                        {"decode_tokens_per_s", tps},
                        {"step_ms", step_s * 1e3},
                        {"weight_read_ms", read_s * 1e3},
                        {"compute_ms", compute_s * 1e3},
                        {"flops_per_step", flops_per_step},
                        {"gflops", flops_per_step / step_s / 1e9},
                        {"gbs", weight_bytes / step_s / 1e9},
                        {"sampling_ms", st.sample_seconds / steps * 1e3},
                        // Time not explained by reading the weights once at the roofline rate.
                        {"overhead_ms", (step_s - read_s) * 1e3},
                        // ... nor by the arithmetic at the GEMM rate, when that bound is larger.
                        {"beyond_roofline_ms", (step_s - bound_s) * 1e3}};
    if (bandwidth_gbs > 0) {
        // The ceilings: rows x bandwidth / weight bytes per token.
        j["bandwidth_ceiling_tokens_per_s"] = static_cast<double>(rows) / read_s;
        j["bandwidth_fraction"] = tps * read_s / static_cast<double>(rows);
    }
    if (gemm_gflops > 0) j["gemm_fraction"] = flops_per_step / step_s / 1e9 / gemm_gflops;
    if (bound_s > 0) j["roofline_fraction"] = bound_s / step_s;
    return j;
}
}  // namespace

nlohmann::json benchGenerate(const ModelBenchOptions& o, double bandwidth_gbs, double gemm_gflops) {
    auto model = benchModel(o);
    const ModelConfig& mc = model->config();
    SamplingConfig cfg;
    cfg.max_new_tokens = o.new_tokens;
    cfg.temperature = 1.0;
    cfg.ignore_eos = true;  // every row runs the full length: a fixed amount of work
    auto gen = at::detail::createCPUGenerator(o.seed);
    const double wb = static_cast<double>(weightBytes(*model));
    auto flops = [&](int64_t rows) {
        return forwardFlops(mc, static_cast<double>(rows), static_cast<double>(rows));
    };
    // The batch: o.batch distinct prompts, one row each.
    double total = 0;
    int64_t generated = 0;
    const GenerationStats st =
        timedGenerate(*model, cfg, o.batch, 1, o.prompt_tokens, o.seed, gen, &total, &generated);
    nlohmann::json j = {
        {"batch", o.batch},
        {"prompt_tokens", o.prompt_tokens},
        {"new_tokens", o.new_tokens},
        {"seconds", total},
        {"generated_tokens", generated},
        {"tokens_per_s", generated / total},
        {"prefill_tokens_per_s", st.prefill_tokens / st.prefill_seconds},
        {"decode_tokens_per_s", st.decode_steps * o.batch / std::max(st.decode_seconds, 1e-9)},
        {"weight_bytes_per_token", weightBytes(*model)},
        {"bandwidth_gbs", bandwidth_gbs},
        {"gemm_gflops", gemm_gflops},
    };
    j["decode"] = decodeFigures(st, o.batch, wb, flops(o.batch), bandwidth_gbs, gemm_gflops);
    // Batch-1 decode: bytes of weights streamed per token against the measured bandwidth.
    SamplingConfig c1 = cfg;
    c1.max_new_tokens = std::max<int64_t>(16, o.new_tokens / 2);
    const GenerationStats s1 =
        timedGenerate(*model, c1, 1, 1, o.prompt_tokens, o.seed + 2, gen, nullptr, nullptr);
    const double tps1 = s1.decode_steps / std::max(s1.decode_seconds, 1e-9);
    const double gbs = tps1 * wb / 1e9;
    j["batch1_decode_tokens_per_s"] = tps1;
    j["batch1_decode_gbs"] = gbs;
    if (bandwidth_gbs > 0) j["batch1_bandwidth_fraction"] = gbs / bandwidth_gbs;
    j["batch1_decode"] = decodeFigures(s1, 1, wb, flops(1), bandwidth_gbs, gemm_gflops);
    // Many rows: the trainer decodes prompts_per_step x group rows in one generate call, where
    // the step is bound by arithmetic (2 x rows x parameters), not by the weight read.
    if (o.wide_rows > 0) {
        const GenerationStats sw =
            timedGenerate(*model, cfg, o.wide_rows, o.wide_group, o.prompt_tokens, o.seed + 4, gen,
                          nullptr, nullptr);
        j["wide_decode"] =
            decodeFigures(sw, o.wide_rows, wb, flops(o.wide_rows), bandwidth_gbs, gemm_gflops);
        j["wide_decode"]["group"] = o.wide_group;
        j["wide_decode"]["prompts"] = (o.wide_rows + o.wide_group - 1) / o.wide_group;
    }
    j["model"] = o.model_dir.empty() ? "random qwen2.5-0.5b-shaped" : o.model_dir;
    j["dtype"] = o.dtype;
    // Which bf16 dot the decode kernels ran on (bf16_dot.h): "native", "emulated" or "none".
    j["bf16_dot"] = bf16DotName(bf16DotInUse());
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
