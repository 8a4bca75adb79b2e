// A real Trainer step, timed by phase, beside the bare GRPO step (see step_bench.h).
#include "core/train/step_bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "core/base/error.h"
#include "core/model/flop_count.h"
#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/reward/recipe.h"
#include "core/train/train_bench.h"
#include "core/train/trainer.h"

namespace reflab::train {

namespace fs = std::filesystem;

namespace {

// A fresh directory under the system's temporary directory, removed when this goes out of scope.
class StepBenchDir {
public:
    StepBenchDir() {
        std::string tmpl = (fs::temp_directory_path() / "reflab-step-bench-XXXXXX").string();
        if (!::mkdtemp(tmpl.data()))
            throw reflab::Error(tmpl + ": cannot create a temporary directory");
        m_path = tmpl;
    }
    ~StepBenchDir() {
        std::error_code ec;
        fs::remove_all(m_path, ec);
    }
    StepBenchDir(const StepBenchDir&) = delete;
    StepBenchDir& operator=(const StepBenchDir&) = delete;
    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

double stepBenchPeakRssMb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB on Linux
}

// A random-weight Qwen2.5-0.5B-shaped model in `dir`, with the tokenizer files of `tokenizer_dir`
// (the Trainer renders prompts and decodes completions with them).
void writeRandomModel(const fs::path& dir, const std::string& tokenizer_dir,
                      const std::string& dtype, uint64_t seed) {
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
        if (!fs::exists(fs::path(tokenizer_dir) / f))
            throw reflab::Error(tokenizer_dir + ": no " + f +
                                " (bench --what step takes the tokenizer of the recipe's model)");
    auto cfg = model::qwen25HalfBConfig();
    const auto lo = model::loadOptionsFrom(dtype, "cpu");
    model::LanguageModel::random(cfg, lo, seed)->saveHfDirectory(dir.string());
    for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
        fs::copy_file(fs::path(tokenizer_dir) / f, dir / f, fs::copy_options::overwrite_existing);
}

double perStep(double sum, int64_t n) {
    return n > 0 ? sum / static_cast<double>(n) : 0.0;
}

}  // namespace

nlohmann::json runStepBench(const StepBenchOptions& o) {
    const reward::Recipe base = reward::loadRecipeFile(o.recipe_path);
    StepBenchDir tmp;
    std::string model_dir = o.model_dir;
    if (model_dir.empty()) {
        model_dir = (tmp.path() / "model").string();
        writeRandomModel(model_dir, base.model.path, o.dtype, o.seed);
    }
    // The recipe as given, at the bench's shape: no evaluation, no checkpoint, 1 + steps steps.
    nlohmann::json j = base.resolved;
    j["model"]["path"] = model_dir;
    j["model"]["dtype"] = o.dtype;
    j["model"]["device"] = o.device;
    j["generation"]["group_size"] = o.group;
    j["generation"]["max_new_tokens"] = o.new_tokens;
    j["algorithm"]["prompts_per_step"] = o.prompts_per_step;
    j["algorithm"]["steps"] = 1 + o.steps;
    j["algorithm"]["checkpoint_every"] = 0;
    j["eval"]["every"] = 0;
    if (!o.moments.empty()) j["algorithm"]["optimizer_moments"] = o.moments;
    const reward::Recipe recipe = reward::parseRecipe(j, o.recipe_path + " (bench --what step)");

    TrainOptions to;
    to.db_path = o.db_path.empty() ? (tmp.path() / "bench.db").string() : o.db_path;
    to.name = "bench-step";
    to.checkpoint_root = (tmp.path() / "checkpoints").string();
    to.checkpoint_at_end = false;
    std::vector<StepProfile> profiles;
    double format_rate = 0;  // of the timed steps: the rollouts a nover proxy scores
    {
        Trainer trainer(&recipe, to);
        trainer.run([&](const StepReport& r) {
            if (!profiles.empty())
                format_rate += r.metrics.count("format_rate") ? r.metrics.at("format_rate") : 0.0;
            profiles.push_back(r.profile);
        });
    }  // the policy, proxy and optimizer are freed before the bare step builds its own
    if (profiles.size() < 2) throw reflab::Error("bench --what step: the run stopped early");
    const StepProfile first = profiles.front();
    profiles.erase(profiles.begin());  // the warm-up step (optimizer state, oneDNN kernels)

    StepProfile s;  // sums over the timed steps
    for (const auto& p : profiles) {
        s.generate_s += p.generate_s;
        s.rescore_s += p.rescore_s;
        s.reward_s += p.reward_s;
        s.train_s += p.train_s;
        s.reference_s += p.reference_s;
        s.store_s += p.store_s;
        s.step_s += p.step_s;
        s.rollouts += p.rollouts;
        s.prompt_tokens += p.prompt_tokens;
        s.generated_tokens += p.generated_tokens;
        s.rescore_tokens += p.rescore_tokens;
        s.rescore_targets += p.rescore_targets;
        s.train_tokens += p.train_tokens;
        s.train_targets += p.train_targets;
        s.reference_tokens += p.reference_tokens;
        s.reference_targets += p.reference_targets;
    }
    const auto n = static_cast<int64_t>(profiles.size());
    const auto cfg = model::loadModelConfig(model_dir);
    const double step_s = perStep(s.step_s, n);
    const double generate_s = perStep(s.generate_s, n);
    const double rescore_s = perStep(s.rescore_s, n), reward_s = perStep(s.reward_s, n);
    const double reference_s = perStep(s.reference_s, n);
    const double train_s = perStep(s.train_s - s.reference_s, n), store_s = perStep(s.store_s, n);
    const double other_s =
        step_s - generate_s - rescore_s - reward_s - reference_s - train_s - store_s;
    const double train_flops =
        model::trainFlops(cfg, perStep(s.train_tokens, n), perStep(s.train_targets, n));
    const double reference_flops =
        model::forwardFlops(cfg, perStep(s.reference_tokens, n), perStep(s.reference_targets, n));
    const double rescore_flops =
        model::forwardFlops(cfg, perStep(s.rescore_tokens, n), perStep(s.rescore_targets, n));

    nlohmann::json out = {
        {"seconds_per_step", step_s},
        {"first_step_seconds", first.step_s},
        {"steps", n},
        {"phases",
         {{"generate", generate_s},
          {"rescore", rescore_s},
          {"reward", reward_s},
          {"reference", reference_s},
          {"train", train_s},
          {"store", store_s},
          {"other", other_s}}},
        {"tokens",
         {{"rollouts", perStep(static_cast<double>(s.rollouts), n)},
          {"prompt", perStep(static_cast<double>(s.prompt_tokens), n)},
          {"generated", perStep(static_cast<double>(s.generated_tokens), n)},
          {"rescore", perStep(static_cast<double>(s.rescore_tokens), n)},
          {"rescore_targets", perStep(static_cast<double>(s.rescore_targets), n)},
          {"train", perStep(static_cast<double>(s.train_tokens), n)},
          {"train_targets", perStep(static_cast<double>(s.train_targets), n)},
          {"reference", perStep(static_cast<double>(s.reference_tokens), n)},
          {"reference_targets", perStep(static_cast<double>(s.reference_targets), n)}}},
        {"flops",
         {{"train", train_flops}, {"reference", reference_flops}, {"rescore", rescore_flops}}},
        {"train_gflops", train_flops / std::max(train_s, 1e-9) / 1e9},
        {"format_rate", perStep(format_rate, n)},
        {"recipe", o.recipe_path},
        {"model", o.model_dir.empty() ? "random qwen2.5-0.5b-shaped" : o.model_dir},
        {"dtype", o.dtype},
        {"group", o.group},
        {"prompts_per_step", o.prompts_per_step},
        {"new_tokens", o.new_tokens},
        {"micro_batch", recipe.algorithm.micro_batch},
        {"optimizer_moments", recipe.algorithm.optimizer_moments},
        {"mu", recipe.algorithm.mu},
        {"temperature", recipe.generation.temperature},
        {"peak_rss_mb", stepBenchPeakRssMb()},
    };
    if (o.compare_bare) {
        // The bare GRPO step of train_bench.h at the same shape: one prompt of the step's mean
        // prompt length, group x prompts_per_step completions, the recipe's micro-batch.
        TrainBenchOptions b;
        b.model_dir = o.model_dir;
        b.dtype = o.dtype;
        b.device = o.device;
        b.group = o.group * o.prompts_per_step;
        b.prompt_tokens = std::max<int64_t>(
            1, std::llround(perStep(static_cast<double>(s.prompt_tokens), s.rollouts)));
        b.new_tokens = o.new_tokens;
        b.micro_batch = recipe.algorithm.micro_batch;
        b.moments = recipe.algorithm.optimizer_moments;
        b.steps = o.steps;
        b.seed = o.seed;
        const TrainBenchResult bare = runTrainBench(b);
        out["bare"] = trainBenchJson(bare);
        out["bare"]["micro_batch"] = b.micro_batch;
        out["ratio_to_bare"] = step_s / std::max(bare.seconds_per_step, 1e-9);
        out["peak_rss_mb"] = stepBenchPeakRssMb();
    }
    return out;
}

}  // namespace reflab::train
