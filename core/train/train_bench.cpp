// One timed GRPO step on a 0.5B-shaped model.
#include "core/train/train_bench.h"

#include <ATen/CPUGeneratorImpl.h>
#include <sys/resource.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "core/base/error.h"
#include "core/model/flop_count.h"
#include "core/model/generation.h"
#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/model/roofline.h"
#include "core/model/scoring.h"
#include "core/train/optimizer.h"
#include "core/train/policy_update.h"
#include "core/train/train_settings.h"

namespace reflab::train {

namespace {

double peakRssMb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace

TrainBenchResult runTrainBench(const TrainBenchOptions& o) {
    using Clock = std::chrono::steady_clock;
    auto secs = [](Clock::time_point t) {
        return std::chrono::duration<double>(Clock::now() - t).count();
    };
    model::LoadOptions lo;
    lo.dtype = dtypeFromName(o.dtype);
    lo.device = torch::Device(o.device);
    if (o.moments != "fp32" && o.moments != "bf16")
        throw reflab::Error("train bench: moments '" + o.moments + "' is not fp32 or bf16");
    std::shared_ptr<model::LanguageModel> policy;
    if (o.model_dir.empty()) {
        if (o.shape != "qwen2.5-0.5b" && o.shape != "qwen2.5-1.5b")
            throw reflab::Error("train bench: shape '" + o.shape +
                                "' is not qwen2.5-0.5b or qwen2.5-1.5b");
        auto cfg = o.shape == "qwen2.5-1.5b" ? model::qwen25OneAndHalfBConfig()
                                             : model::qwen25HalfBConfig();
        cfg.eos_token_ids.clear();  // random weights: every row runs the full 64 tokens
        policy = model::LanguageModel::random(cfg, lo, o.seed);
    } else {
        policy = model::LanguageModel::load(o.model_dir, lo);
    }
    policy->transformer().setGradientCheckpointing(o.gradient_checkpointing);
    TrainBenchResult r;
    const model::ModelConfig& mc = policy->config();
    r.params = static_cast<double>(mc.parameterCount());
    // The machine's GEMM rate at the MLP's shape over a micro-batch's tokens: the products of
    // the step (4 x 128 = 512 rows by default).
    r.gemm_m = o.micro_batch * (o.prompt_tokens + o.new_tokens);
    r.gemm_k = mc.hidden_size;
    r.gemm_n = mc.intermediate_size;
    const GemmBound gemm = measureGemmBound(lo.dtype, lo.device, r.gemm_m, r.gemm_k, r.gemm_n);
    r.gemm_gflops = gemm.gflops;
    r.gemm_dtype_gflops = gemm.dtype_gflops;
    r.gemm_float32_gflops = gemm.float32_gflops;

    OptimizerOptions oo;
    oo.moments = o.moments == "bf16" ? torch::kBFloat16 : torch::kFloat32;
    PolicyOptimizer optimizer(policy->parameters(), oo);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    const int64_t vocab = policy->config().vocab_size;
    std::vector<int32_t> prompt;
    const auto ids =
        torch::randint(100, std::min<int64_t>(vocab, 30000), {o.prompt_tokens}, gen, torch::kInt64);
    for (int64_t i = 0; i < o.prompt_tokens; ++i)
        prompt.push_back(static_cast<int32_t>(ids[i].item<int64_t>()));

    // Step 0 warms up (the optimizer's moments are allocated and page-faulted in, oneDNN builds
    // its kernels): a run pays that once, not per step, so it is reported apart.
    for (int64_t step = -1; step < o.steps; ++step) {
        if (step == 0) {  // the timed steps start from zero
            TrainBenchResult timed;
            timed.params = r.params;
            timed.gemm_gflops = r.gemm_gflops;
            timed.gemm_dtype_gflops = r.gemm_dtype_gflops;
            timed.gemm_float32_gflops = r.gemm_float32_gflops;
            timed.gemm_m = r.gemm_m;
            timed.gemm_k = r.gemm_k;
            timed.gemm_n = r.gemm_n;
            timed.first_step_s = r.seconds_per_step;
            r = timed;
        }
        const auto t_step = Clock::now();
        // generate: G completions of one prompt (prefilled once, KV cache)
        auto t0 = Clock::now();
        model::SamplingConfig sc;
        sc.max_new_tokens = o.new_tokens;
        sc.ignore_eos = true;  // a fixed amount of work: every row runs the full length
        const std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(o.group), prompt);
        const auto gens = model::generate(*policy, prompts, sc, gen);
        r.generate_s += secs(t0);
        // score: one batched no-grad forward over the completions
        t0 = Clock::now();
        std::vector<model::ScoreRequest> reqs;
        for (const auto& g : gens) reqs.push_back({prompt, g.tokens});
        const auto scored = model::scoreTargets(*policy, reqs);
        r.score_s += secs(t0);
        // train: one backward over every completion (micro-batched) + one AdamW update
        t0 = Clock::now();
        std::vector<UpdateSample> samples;
        for (size_t i = 0; i < gens.size(); ++i) {
            UpdateSample u;
            u.context = prompt;
            u.tokens = gens[i].tokens;
            u.old_logprobs = gens[i].logprobs;
            u.policy_tokens = static_cast<int64_t>(u.tokens.size());
            u.advantage =
                (i % 2 == 0) ? 1.0 : -1.0;  // a group with spread: every completion learns
            samples.push_back(std::move(u));
            r.train_tokens += static_cast<double>(prompt.size() + gens[i].tokens.size());
            r.target_tokens += static_cast<double>(gens[i].tokens.size());
        }
        UpdateOptions uo;
        uo.micro_batch = o.micro_batch;
        // REFLAB_PROFILE_TRAIN=F.json: a chrome://tracing file of every op of the update, to see
        // where the train phase's time goes (a developer's tool; off by default).
        std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
        if (const char* f = std::getenv("REFLAB_PROFILE_TRAIN"))
            profile = std::make_unique<torch::autograd::profiler::RecordProfile>(std::string(f));
        const UpdateStats us = policyUpdate(*policy, nullptr, optimizer, samples, uo, 1e-6);
        profile.reset();
        r.train_s += secs(t0);
        r.forward_s += us.forward_s;
        r.backward_s += us.backward_s;
        r.optimizer_s += us.optimizer_s;
        r.seconds_per_step += secs(t_step);
    }
    if (o.steps == 0) r.first_step_s = r.seconds_per_step;  // the warm-up step is the figure
    const double n = static_cast<double>(std::max<int64_t>(1, o.steps));
    r.seconds_per_step /= n;
    r.generate_s /= n;
    r.score_s /= n;
    r.train_s /= n;
    r.forward_s /= n;
    r.backward_s /= n;
    r.optimizer_s /= n;
    r.train_tokens /= n;
    r.target_tokens /= n;
    // The scoring forward and the training forward see the same sequences; the lm_head runs
    // on the completion (target) positions only in both.
    r.score_flops = model::forwardFlops(mc, r.train_tokens, r.target_tokens);
    r.train_flops = model::trainFlops(mc, r.train_tokens, r.target_tokens);
    r.train_gflops = r.train_flops / std::max(r.train_s, 1e-9) / 1e9;
    r.peak_rss_mb = peakRssMb();
    r.body_params = static_cast<double>(model::bodyParameters(mc));
    r.lm_head_params = static_cast<double>(model::lmHeadParameters(mc));
    r.group = o.group;
    r.prompt_tokens = o.prompt_tokens;
    r.new_tokens = o.new_tokens;
    r.shape = o.model_dir.empty() ? o.shape : "";
    r.moments = o.moments;
    return r;
}

TrainBenchOptions trainBenchOptions(const model::ModelBenchOptions& bench) {
    TrainBenchOptions o;
    o.model_dir = bench.model_dir;
    o.dtype = bench.dtype;
    o.device = bench.device;
    o.group = bench.batch;
    o.new_tokens = bench.new_tokens;
    o.seed = bench.seed;
    return o;
}

nlohmann::json trainBenchJson(const TrainBenchResult& r) {
    return {{"seconds_per_step", r.seconds_per_step},
            {"group", r.group},
            {"prompt_tokens", r.prompt_tokens},
            {"new_tokens", r.new_tokens},
            {"first_step_seconds", r.first_step_s},
            {"phases", {{"generate", r.generate_s}, {"score", r.score_s}, {"train", r.train_s}}},
            {"train_split",
             {{"forward", r.forward_s}, {"backward", r.backward_s}, {"optimizer", r.optimizer_s}}},
            {"peak_rss_mb", r.peak_rss_mb},
            {"optimizer_moments", r.moments},
            {"shape", r.shape},
            {"train_tokens", r.train_tokens},
            {"target_tokens", r.target_tokens},
            {"score_flops", r.score_flops},
            {"train_flops", r.train_flops},
            {"train_gflops", r.train_gflops},
            {"gemm_gflops", r.gemm_gflops},
            {"gemm_dtype_gflops", r.gemm_dtype_gflops},
            {"gemm_float32_gflops", r.gemm_float32_gflops},
            {"gemm_shape", {{"m", r.gemm_m}, {"k", r.gemm_k}, {"n", r.gemm_n}}},
            {"train_gemm_fraction", r.gemm_gflops > 0 ? r.train_gflops / r.gemm_gflops : 0.0},
            {"params", r.params},
            {"body_params", r.body_params},
            {"lm_head_params", r.lm_head_params}};
}

}  // namespace reflab::train
