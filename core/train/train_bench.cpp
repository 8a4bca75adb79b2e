// One timed GRPO step on a 0.5B-shaped model.
#include "core/train/train_bench.h"

#include <ATen/CPUGeneratorImpl.h>
#include <sys/resource.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>

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
    std::shared_ptr<model::LanguageModel> policy;
    if (o.model_dir.empty()) {
        auto cfg = model::qwen25HalfBConfig();
        cfg.eos_token_ids.clear();  // random weights: every row runs the full 64 tokens
        policy = model::LanguageModel::random(cfg, lo, o.seed);
    } else {
        policy = model::LanguageModel::load(o.model_dir, lo);
    }
    policy->transformer().setGradientCheckpointing(o.gradient_checkpointing);
    TrainBenchResult r;
    r.params = static_cast<double>(policy->config().parameterCount());
    // The machine's GEMM rate at the MLP's shape over 512 tokens: the products of the step.
    r.gemm_gflops = measureGemmGflops(lo.dtype, lo.device, 512, policy->config().hidden_size,
                                      policy->config().intermediate_size);

    PolicyOptimizer optimizer(policy->parameters(), OptimizerOptions{});
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
            timed.first_step_s = r.seconds_per_step;
            r = timed;
        }
        const auto t_step = Clock::now();
        // generate: G completions of one prompt (prefilled once, KV cache)
        auto t0 = Clock::now();
        model::SamplingConfig sc;
        sc.max_new_tokens = o.new_tokens;
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
    const double n = static_cast<double>(std::max<int64_t>(1, o.steps));
    r.seconds_per_step /= n;
    r.generate_s /= n;
    r.score_s /= n;
    r.train_s /= n;
    r.forward_s /= n;
    r.backward_s /= n;
    r.optimizer_s /= n;
    r.train_tokens /= n;
    r.train_gflops = 6.0 * r.params * r.train_tokens / std::max(r.train_s, 1e-9) / 1e9;
    r.peak_rss_mb = peakRssMb();
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
            {"first_step_seconds", r.first_step_s},
            {"phases", {{"generate", r.generate_s}, {"score", r.score_s}, {"train", r.train_s}}},
            {"train_split",
             {{"forward", r.forward_s}, {"backward", r.backward_s}, {"optimizer", r.optimizer_s}}},
            {"peak_rss_mb", r.peak_rss_mb},
            {"train_tokens", r.train_tokens},
            {"train_gflops", r.train_gflops},
            {"gemm_gflops", r.gemm_gflops},
            {"params", r.params}};
}

}  // namespace reflab::train
