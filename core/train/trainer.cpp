// The RL training loop: run set-up (new / resume / fork), steps, evaluation, checkpoints, stop.
#include "core/train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/base/version.h"
#include "core/data/jsonl_dataset.h"
#include "core/data/prompt_sampler.h"
#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/model/scoring.h"
#include "core/reward/reward_engine.h"
#include "core/reward/reward_std_filter.h"
#include "core/store/workspace.h"
#include "core/train/checkpoint_prune.h"
#include "core/train/checkpoint_state.h"
#include "core/train/evaluator.h"
#include "core/train/policy_update.h"
#include "core/train/rollout_exchange.h"
#include "core/train/rollouts.h"
#include "core/train/staged_run.h"
#include "core/train/step_metrics.h"
#include "core/train/stop_signal.h"
#include "core/train/train_error.h"
#include "core/train/train_settings.h"

namespace reflab::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

// FNV-1a over config.json and, per safetensors file, its size and first/last MiB: identifies a
// model directory's content without reading gigabytes.
std::string modelHash(const std::string& dir) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const char* p, size_t n) {
        for (size_t i = 0; i < n; ++i)
            h = (h ^ static_cast<unsigned char>(p[i])) * 1099511628211ull;
    };
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().filename() == "config.json" || e.path().extension() == ".safetensors")
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<char> buf(1 << 20);
    for (const auto& f : files) {
        const auto size = fs::file_size(f, ec);
        const std::string name = f.filename().string() + ":" + std::to_string(size);
        mix(name.data(), name.size());
        std::ifstream in(f, std::ios::binary);
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        mix(buf.data(), static_cast<size_t>(in.gcount()));
        if (size > buf.size()) {
            in.clear();
            in.seekg(static_cast<std::streamoff>(size - buf.size()));
            in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
            mix(buf.data(), static_cast<size_t>(in.gcount()));
        }
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

// Copies every parameter of `from` into `to` (same architecture), by HF name.
void copyWeights(const model::LanguageModel& from, model::LanguageModel& to,
                 const std::string& source) {
    torch::NoGradGuard ng;
    const auto src = from.namedParameters();
    const auto dst = to.namedParameters();
    if (src.size() != dst.size())
        throw TrainError(source + ": the checkpoint has " + std::to_string(src.size()) +
                         " tensors, the model " + std::to_string(dst.size()));
    for (size_t i = 0; i < dst.size(); ++i) {
        if (src[i].first != dst[i].first || src[i].second.sizes() != dst[i].second.sizes())
            throw TrainError(source + ": tensor '" + src[i].first +
                             "' does not match the recipe's model");
        dst[i].second.detach().copy_(src[i].second);
    }
}

std::string formatGiB(int64_t bytes) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f GB", static_cast<double>(bytes) / 1e9);
    return b;
}

}  // namespace

int64_t trainingMemoryEstimate(int64_t parameters, const std::string& dtype, int extra_models,
                               int64_t moment_bytes) {
    const int64_t wbytes = dtype == "float32" ? 4 : 2;
    const int64_t master = dtype == "bfloat16" ? 2 : (dtype == "float32" ? 0 : 4);
    // weights + master bits + Adam m, v + gradients (model dtype) + other models' weights
    return parameters * (wbytes + master + 2 * moment_bytes + wbytes + extra_models * wbytes);
}

int64_t availableMemoryBytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    int64_t value = 0;
    std::string unit;
    while (in >> key >> value >> unit)
        if (key == "MemAvailable:") return value * 1024;
    return 0;
}

struct Trainer::State {
    TrainOptions opt;
    std::optional<reward::Recipe> recipe;
    TrainSettings s;
    std::optional<store::Workspace> ws;
    std::string run_id;
    std::shared_ptr<model::LanguageModel> policy, reference;
    std::unique_ptr<reward::RewardEngine> engine;
    std::unique_ptr<PolicyOptimizer> optimizer;
    at::Generator gen;
    std::optional<data::JsonlDataset> train_set, eval_set;
    std::unique_ptr<data::PromptSampler> sampler;
    reward::StdFilter* filter = nullptr;  // the engine's (rlpr), or null
    std::unique_ptr<StagedRun> stages;    // the recipe's stages, or null
    int64_t start_step = 0;               // steps already done (0 for a new run)
    int64_t last_checkpoint_step = -1;
    std::string last_checkpoint_dir;
    double best_eval = -1, last_eval = -1, first_eval = -1;
    int64_t eval_prompts = 0;
    std::string load_dir;    // where the policy weights come from
    std::string resume_dir;  // checkpoint whose trainer state to load ("" for a new run)
    EventCallback on_event;
    std::unique_ptr<Communicator> comm;  // distributed runs only

    // Rank 0 of a distributed run, or the only process: owns the store and the checkpoints.
    bool root() const { return !comm || comm->rank() == 0; }
    void event(const std::string& text) {
        if (!root()) return;
        if (on_event) on_event(text);
        if (ws && !run_id.empty()) ws->addEvent(run_id, text);
    }
    fs::path checkpointRoot() const {
        if (!opt.checkpoint_root.empty()) return fs::path(opt.checkpoint_root);
        fs::path p(opt.db_path);
        return p.parent_path() / (p.stem().string() + ".checkpoints");
    }
    void setUp();
    void resolveRun();   // from the store: the recipe, start step and checkpoint (root)
    void prepare();      // settings, data, models, optimizer and resumed state (every rank)
    void registerRun();  // the run's row, new or resumed (root)
    // The parameters data-parallel ranks must keep identical: the policy's and nover's proxy.
    std::vector<torch::Tensor> replicatedTensors() const {
        auto out = policy->parameters();
        for (auto& [name, t] : proxyTensors()) out.push_back(t);
        return out;
    }
    // The nover proxy's weights, saved with each checkpoint (the proxy drifts by EMA).
    NamedTensors proxyTensors() const {
        NamedTensors out;
        if (engine && engine->proxyModel())
            for (auto& [name, t] : engine->proxyModel()->namedParameters())
                out.emplace_back("proxy/" + name, t);
        return out;
    }
    // Everything a checkpoint keeps beside the policy: the proxy's and the frozen judge's.
    NamedTensors extraTensors() const {
        NamedTensors out = proxyTensors();
        if (stages)
            for (auto& t : stages->judgeTensors()) out.push_back(t);
        return out;
    }
    void checkMemory(const std::string& model_dir) const;
    int64_t step(int64_t step_no, StepReport& report);
    // A judge_sft stage's step: one judge update, no rollouts.
    int64_t judgeStep(int64_t step_no, StepReport& report, store::StepRecord& rec,
                      Clock::time_point t_step);
    void nextOptimizerEvents(int64_t from, store::StepRecord& rec);
    // Evaluates the policy on the eval set: eval/* metrics and the eval rollouts into the step.
    void evaluateInto(int64_t step_no, Metrics& metrics, store::StepRecord& rec);
    // A new run's step 0: the initial policy's evaluation, so every eval curve has its before.
    void evaluateAtStart();
    std::string writeCheckpoint(int64_t step_no);
};

Trainer::Trainer(const reward::Recipe* recipe, TrainOptions options)
    : m(std::make_unique<State>()) {
    m->opt = std::move(options);
    if (recipe) m->recipe = *recipe;
}

Trainer::~Trainer() = default;

void Trainer::State::checkMemory(const std::string& model_dir) const {
    const auto cfg = model::loadModelConfig(model_dir);
    int extra = 0;
    if (s.loss.kl_coef > 0 && !s.kl_to_proxy) ++extra;
    if (recipe->find(reward::ComponentType::Nover)) ++extra;
    for (const auto& st : recipe->stages)
        if (st.kind == reward::StageKind::RlFrozenJudge) {
            ++extra;  // the frozen judge
            break;
        }
    const int64_t need = trainingMemoryEstimate(cfg.parameterCount(), recipe->model.dtype, extra,
                                                s.optimizer.moments == torch::kBFloat16 ? 2 : 4);
    const int64_t have = availableMemoryBytes();
    if (have > 0 && need > have)
        throw TrainError(
            model_dir + ": training this " + std::to_string(cfg.parameterCount() / 1000000) +
            "M-parameter model in " + recipe->model.dtype + " needs about " + formatGiB(need) +
            " of memory (weights, optimizer state, gradients), but only " + formatGiB(have) +
            " is available; use a smaller model, bfloat16 or \"optimizer_moments\": \"bf16\"");
}

void Trainer::State::setUp() {
    if (root()) {
        try {
            resolveRun();
            prepare();
            registerRun();
        } catch (const std::exception& e) {
            // The other ranks wait for the run's settings: tell them why there are none.
            if (comm) {
                std::string msg = nlohmann::json{{"error", e.what()}}.dump();
                comm->broadcast(msg);
            }
            throw;
        }
        if (comm) {
            std::string msg = nlohmann::json{
                {"recipe", recipe->resolved},
                {"source", recipe->source},
                {"start_step", start_step},
                {"resume_dir", resume_dir},
                {"run_id",
                 run_id}}.dump();
            comm->broadcast(msg);
        }
        return;
    }
    std::string msg;
    comm->broadcast(msg);
    const auto j = nlohmann::json::parse(msg);
    if (j.contains("error"))
        throw TrainError("rank " + std::to_string(comm->rank()) +
                         ": rank 0 could not start the run: " + j["error"].get<std::string>());
    recipe = reward::parseRecipe(j["recipe"], j["source"].get<std::string>());
    start_step = j["start_step"].get<int64_t>();
    resume_dir = j["resume_dir"].get<std::string>();
    run_id = j["run_id"].get<std::string>();
    load_dir = resume_dir.empty() ? recipe->model.path : resume_dir;
    prepare();
}

void Trainer::State::resolveRun() {
    if (!opt.resume_run.empty() && !opt.fork_run.empty())
        throw TrainError("--resume and --fork cannot be used together");
    ws.emplace(store::Workspace::open(opt.db_path));
    std::optional<store::RunInfo> parent;
    if (!opt.resume_run.empty()) {
        parent = ws->run(opt.resume_run);
        if (!parent) throw TrainError(opt.db_path + ": no run '" + opt.resume_run + "' to resume");
        if (parent->status == store::RunStatus::Finished)
            throw TrainError("run '" + opt.resume_run + "' is finished; fork it to train further");
        recipe = reward::parseRecipe(nlohmann::json::parse(parent->recipe_json),
                                     "run " + opt.resume_run);
        const auto ck = ws->lastCheckpoint(opt.resume_run);
        if (!ck) throw TrainError("run '" + opt.resume_run + "' has no checkpoint to resume from");
        start_step = ck->first;
        load_dir = resume_dir = ck->second;
    } else if (!opt.fork_run.empty()) {
        parent = ws->run(opt.fork_run);
        if (!parent) throw TrainError(opt.db_path + ": no run '" + opt.fork_run + "' to fork");
        if (!recipe)
            recipe = reward::parseRecipe(nlohmann::json::parse(parent->recipe_json),
                                         "run " + opt.fork_run);
        std::string have;
        for (const auto& c : ws->checkpoints(opt.fork_run)) {
            if (c.step == opt.fork_step) resume_dir = c.dir;
            have += (have.empty() ? "" : ", ") + std::to_string(c.step);
        }
        if (resume_dir.empty())
            throw TrainError("run '" + opt.fork_run + "' has no checkpoint at step " +
                             std::to_string(opt.fork_step) +
                             " (checkpoints at: " + (have.empty() ? "none" : have) + ")");
        start_step = opt.fork_step;
        load_dir = resume_dir;
    } else {
        if (!recipe) throw TrainError("a recipe is needed to start a run");
        load_dir = recipe->model.path;
    }
}

void Trainer::State::prepare() {
    s = trainSettings(*recipe, opt.steps);
    if (comm && s.device.is_cuda()) {
        // One GPU per rank of a machine, as torchrun's users expect: "cuda" is LOCAL_RANK's.
        if (!s.device.has_index())
            s.device =
                torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(opt.dist.local_rank));
        comm->useCuda(s.device);  // the gradient buckets then go through NCCL
    }
    if (s.steps <= start_step)
        throw TrainError("the run already has " + std::to_string(start_step) + " steps of " +
                         std::to_string(s.steps) + "; pass --steps with a larger total");
    if (recipe->model.path.empty())
        throw TrainError(recipe->source + ": model.path: no model directory given");
    if (recipe->data.train.empty())
        throw TrainError(recipe->source + ": data.train: no training data given");
    // Judge updates and judge-only steps are not spread over ranks (their gradients are not
    // summed, and only rank 0 writes the store): a staged run trains on one process.
    if (comm && comm->worldSize() > 1 && !recipe->stages.empty())
        throw TrainError(recipe->source +
                         ": stages: a recipe with stages trains on one process, not " +
                         std::to_string(comm->worldSize()) + " data-parallel ranks");
    // Data first (cheap, and the most common mistake), then memory, then the weights.
    train_set = data::JsonlDataset::load(recipe->data.train,
                                         {recipe->data.prompt_field, recipe->data.reference_field});
    if (!recipe->data.eval.empty() && s.eval_every > 0)
        eval_set = data::JsonlDataset::load(
            recipe->data.eval, {recipe->data.prompt_field, recipe->data.reference_field});
    checkMemory(recipe->model.path);

    model::LoadOptions lo;
    lo.dtype = s.dtype;
    lo.device = s.device;
    // The engine clones the policy it is given for nover's proxy and rlpr's initial model (r_A),
    // and the KL reference is the initial policy too: so every run builds them from the
    // recipe's model, and a resumed or forked run then loads its checkpoint's weights into the
    // policy (and the proxy's into the proxy).
    policy = model::LanguageModel::load(recipe->model.path, lo);
    policy->transformer().setGradientCheckpointing(s.gradient_checkpointing);
    if (s.loss.kl_coef > 0 && !s.kl_to_proxy) reference = policy->clone();
    engine = std::make_unique<reward::RewardEngine>(*recipe, policy);
    if (s.loss.kl_coef > 0 && s.kl_to_proxy) reference = engine->proxyModel();
    filter = engine->stdFilter();
    // Stages' labelled scores are read (and checked) before the run is registered.
    if (!recipe->stages.empty()) stages = std::make_unique<StagedRun>(*recipe, *policy, s.seed);

    gen = at::make_generator<at::CPUGeneratorImpl>(s.seed);
    sampler = std::make_unique<data::PromptSampler>(train_set->size(), s.seed);
    if (!resume_dir.empty()) {
        copyWeights(*model::LanguageModel::load(resume_dir, lo), *policy, resume_dir);
        if (stages) stages->prepareResume(start_step + 1, *policy);
        optimizer = std::make_unique<PolicyOptimizer>(policy->parameters(), s.optimizer);
        const auto st = loadTrainerState(resume_dir, *optimizer, gen, extraTensors());
        if (st.step != start_step)
            throw TrainError(resume_dir + ": trainer state is for step " + std::to_string(st.step) +
                             ", the store records step " + std::to_string(start_step));
        sampler->setPosition(st.sampler_position);
        if (filter && st.extra.contains("std_filter")) filter->restore(st.extra["std_filter"]);
        if (st.extra.contains("best_eval")) best_eval = st.extra["best_eval"].get<double>();
        if (stages) {
            if (!st.extra.contains("stages"))
                throw TrainError(resume_dir + ": trainer_state.json has no stages state");
            stages->restore(st.extra["stages"]);
        }
    } else {
        optimizer = std::make_unique<PolicyOptimizer>(policy->parameters(), s.optimizer);
    }
}

void Trainer::State::registerRun() {
    if (!opt.resume_run.empty()) {
        run_id = opt.resume_run;
        ws->truncateRun(run_id, start_step);
        ws->setRunStatus(run_id, store::RunStatus::Running);
        last_checkpoint_step = start_step;
        last_checkpoint_dir = resume_dir;
        event("resumed from step " + std::to_string(start_step) + " (" + resume_dir + ")");
    } else {
        store::NewRun nr;
        nr.name = opt.name.empty() ? recipe->name : opt.name;
        nr.kind = reward::recipeKind(*recipe);
        nlohmann::json resolved = recipe->resolved;
        resolved["algorithm"]["steps"] = s.steps;
        nr.recipe_json = resolved.dump();
        nr.model_path = recipe->model.path;
        nr.model_hash = modelHash(recipe->model.path);
        nr.code_version = reflabVersion();
        nr.seed = s.seed;
        nr.steps = s.steps;
        // Each token's bytes: the rollouts' completions are then stored as their tokens, and
        // the rollout inspector shows every generated token's text.
        if (policy->hasTokenizer()) nr.vocabulary = policy->tokenizer().byteVocabulary();
        if (!opt.fork_run.empty()) {
            nr.parent_run = opt.fork_run;
            nr.parent_step = opt.fork_step;
        }
        run_id = ws->createRun(nr);
        if (!opt.fork_run.empty())
            event("forked from run " + opt.fork_run + " at step " + std::to_string(opt.fork_step));
    }
}

std::string Trainer::State::writeCheckpoint(int64_t step_no) {
    const fs::path dir = checkpointRoot() / run_id / checkpointDirName(step_no);
    const fs::path tmp = dir.string() + ".tmp";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec)
        throw TrainError(tmp.string() + ": cannot create the checkpoint directory (" +
                         ec.message() + ")");
    policy->saveHfDirectory(tmp.string());
    TrainerState st;
    st.step = step_no;
    st.seed = s.seed;
    st.sampler_position = sampler->position();
    st.run_id = run_id;
    if (filter) st.extra["std_filter"] = filter->state();
    st.extra["best_eval"] = best_eval;
    if (stages) st.extra["stages"] = stages->state();
    saveTrainerState(tmp.string(), st, *optimizer, gen, extraTensors());
    fs::remove_all(dir, ec);
    fs::rename(tmp, dir, ec);
    if (ec)
        throw TrainError(dir.string() + ": cannot move the checkpoint into place (" + ec.message() +
                         ")");
    ws->addCheckpoint(run_id, step_no, dir.string());
    pruneCheckpoints(*ws, run_id, s.keep_checkpoints);  // algorithm.keep_checkpoints
    last_checkpoint_step = step_no;
    last_checkpoint_dir = dir.string();
    return dir.string();
}

// One training step; fills report.metrics and returns the completion tokens generated (all
// ranks'). Data-parallel: this rank generates, scores and learns from its share of the step's
// groups (groupShare); the collectives make every rank take the update of the whole batch, and
// rank 0 gathers the rollouts to compute the metrics and write the step.
int64_t Trainer::State::step(int64_t step_no, StepReport& report) {
    const auto t_step = Clock::now();
    store::StepRecord rec;
    rec.step = step_no;
    Metrics metrics;
    const int world = comm ? comm->worldSize() : 1, rank = comm ? comm->rank() : 0;
    if (stages) {
        if (auto mark = stages->enter(step_no, *engine, policy)) {
            if (on_event) on_event(mark->text);
            rec.marks.push_back(*mark);
        }
        if (stages->stageAt(step_no).kind == reward::StageKind::JudgeSft)
            return judgeStep(step_no, report, rec, t_step);
    }

    // 1. prompts and rollouts. Every rank advances the sampler by the whole step; rank 0
    // renders every prompt (its records need them), the others their share.
    const auto idx = sampler->next(static_cast<size_t>(s.prompts_per_step));
    const auto [g_begin, g_end] = groupShare(static_cast<int64_t>(idx.size()), rank, world);
    std::vector<PromptItem> all_prompts(idx.size());
    for (size_t g = 0; g < idx.size(); ++g)
        if (root() || (int64_t(g) >= g_begin && int64_t(g) < g_end))
            all_prompts[g] = renderPrompt(*recipe, *policy, train_set->at(idx[g]));
    const std::vector<PromptItem> prompts(all_prompts.begin() + g_begin,
                                          all_prompts.begin() + g_end);
    // Reverse reasoning: the first guided_fraction of each group sees the reference.
    const int64_t n_guided =
        std::llround(recipe->reverse_reasoning.guided_fraction * double(s.group_size));
    std::vector<PromptItem> guided;
    if (n_guided > 0)
        for (int64_t g = g_begin; g < g_end; ++g)
            guided.push_back(renderGuidedPrompt(*recipe, *policy, train_set->at(idx[g])));
    auto t0 = Clock::now();
    const auto sampling = samplingFor(*policy, s.sampling);
    // A generator per rollout, seeded by (seed, step, group, sample): the same samples on
    // whichever rank generates the group, and after a resume.
    auto row_gens = rolloutGenerators(s.seed, step_no, g_begin, g_end - g_begin, s.group_size);
    auto rollouts =
        sampleRollouts(*policy, prompts, s.group_size, sampling, row_gens, &guided, n_guided);
    // Generation records log-probs of the raw logits; the loss needs those of logits / T, the
    // distribution that sampled (TRL). With T != 1 every rollout's old log-probs are re-scored
    // at T; guided rollouts (trained as if sampled without the reference) are re-scored under
    // the plain prompt at any T, so the first epoch's ratio is 1 as for the other samples.
    // With mu = 1 the rollouts the update computes take them from its own forward instead
    // (UpdateOptions::old_from_forward: the same values, one forward fewer); the others are
    // re-scored before the update (below).
    const double T = lossTemperature(s.sampling);
    const bool old_from_forward = s.mu == 1;
    auto needs_rescore = [&](const Rollout& r) {
        return (r.guided || T != 1.0) && !r.generation.tokens.empty();
    };
    auto rescore = [&](const std::vector<size_t>& rows) {
        if (rows.empty()) return;
        const auto t_rescore = Clock::now();
        std::vector<model::ScoreRequest> reqs;
        for (size_t r : rows) {
            reqs.push_back({prompts[rollouts[r].prompt].ids, rollouts[r].generation.tokens});
            report.profile.rescore_tokens +=
                static_cast<int64_t>(reqs.back().context.size() + reqs.back().target.size());
            report.profile.rescore_targets += static_cast<int64_t>(reqs.back().target.size());
        }
        model::ScoreOptions so;
        so.temperature = T;
        so.entropy = sampling.entropy;  // the stored entropies follow the stored log-probs
        const auto scored = model::scoreTargets(*policy, reqs, so);
        for (size_t k = 0; k < rows.size(); ++k) {
            const auto lp = scored.logprobs[k].to(torch::kCPU).contiguous();
            rollouts[rows[k]].generation.logprobs.assign(lp.data_ptr<float>(),
                                                         lp.data_ptr<float>() + lp.numel());
            if (!so.entropy) continue;
            const auto ent = scored.entropy[k].to(torch::kCPU).contiguous();
            rollouts[rows[k]].generation.entropies.assign(ent.data_ptr<float>(),
                                                          ent.data_ptr<float>() + ent.numel());
        }
        report.profile.rescore_s += secondsSince(t_rescore);
    };
    if (!old_from_forward) {
        std::vector<size_t> rows;
        for (size_t r = 0; r < rollouts.size(); ++r)
            if (needs_rescore(rollouts[r])) rows.push_back(r);
        rescore(rows);
    }
    const double t_generate = secondsSince(t0);
    // This rank's share (the profile of bench --what step).
    int64_t generated_here = 0;
    for (const auto& r : rollouts)
        generated_here += static_cast<int64_t>(r.generation.tokens.size());
    report.profile.rollouts = static_cast<int64_t>(rollouts.size());
    report.profile.generated_tokens = generated_here;
    for (const auto& r : rollouts)
        report.profile.prompt_tokens += static_cast<int64_t>(prompts[r.prompt].ids.size());

    // 2. scores, one engine call per group (a group lives on one rank: NOVER's rank and
    // efficiency see the whole group)
    t0 = Clock::now();
    for (size_t g = 0; g < prompts.size(); ++g) {
        std::vector<reward::RewardInput> inputs;
        for (int64_t k = 0; k < s.group_size; ++k) {
            auto& r = rollouts[g * s.group_size + k];
            r.parsed =
                text::parseCompletion(r.completion, recipe->templ.think, recipe->templ.answer);
            inputs.push_back(
                rewardInput(r, prompts[g],
                            std::to_string(step_no) + ":" + std::to_string(g_begin + int64_t(g))));
        }
        auto outs = engine->scoreGroup(inputs);
        for (int64_t k = 0; k < s.group_size; ++k)
            rollouts[g * s.group_size + k].reward = std::move(outs.at(k));
    }
    const double t_score = secondsSince(t0);

    // 3. advantages (+ rlpr's std filter, over every rank's groups) and the update samples
    std::vector<GroupAdvantages> groups;
    std::vector<double> group_std(idx.size(), 0.0);
    for (size_t g = 0; g < prompts.size(); ++g) {
        std::vector<double> totals;
        for (int64_t k = 0; k < s.group_size; ++k)
            totals.push_back(rollouts[g * s.group_size + k].reward.total);
        groups.push_back(groupAdvantages(totals, s.advantage, s.advantage_options));
        group_std[g_begin + g] = reward::groupRewardStd(totals);
    }
    int64_t dropped = 0;
    if (filter) {
        if (comm) {
            auto all = torch::tensor(group_std, torch::kFloat64);
            comm->allReduce(all, ReduceOp::Sum);  // each group's std is non-zero on one rank
            group_std.assign(all.data_ptr<double>(), all.data_ptr<double>() + all.numel());
        }
        const auto keep = filter->apply(step_no, group_std);
        for (size_t g = 0; g < keep.size(); ++g)
            if (!keep[g]) {
                ++dropped;
                if (int64_t(g) < g_begin || int64_t(g) >= g_end) continue;
                for (int64_t k = 0; k < s.group_size; ++k)
                    rollouts[(g - g_begin) * s.group_size + k].kept = false;
            }
    }
    std::vector<UpdateSample> samples;
    std::vector<size_t> sample_rollout;  // the rollout of each sample
    for (size_t ri = 0; ri < rollouts.size(); ++ri) {
        auto& r = rollouts[ri];
        r.advantage = r.kept ? groups[r.group].advantages[r.sample] : 0.0;
        if (!r.kept) continue;
        sample_rollout.push_back(ri);
        UpdateSample u;
        u.context = prompts[r.prompt].ids;
        u.tokens = r.generation.tokens;
        u.old_logprobs = r.generation.logprobs;
        u.policy_tokens = static_cast<int64_t>(u.tokens.size());
        u.advantage = r.advantage;
        if (r.reward.reference_term) {
            // rgr: the policy term covers the reasoning only, up to where the answer opens.
            if (r.parsed.has_answer)
                u.policy_tokens = tokensBefore(*policy, u.tokens, r.parsed.answer_open);
            u.reference_term = r.reward.reference_term;
        }
        r.policy_tokens = u.policy_tokens;
        samples.push_back(std::move(u));
    }

    // 4. mu epochs of updates
    t0 = Clock::now();
    if (old_from_forward) {
        // Rollouts the update computes over every token take their old log-probs from its
        // forward (cleared here); the rest (dropped groups, rgr's answer tokens, samples
        // without a term) are scored now, before the weights move.
        std::vector<bool> from_forward(rollouts.size(), false);
        for (size_t i = 0; i < samples.size(); ++i) {
            const auto& u = samples[i];
            if (needs_rescore(rollouts[sample_rollout[i]]) &&
                updateComputes(u, reference != nullptr) &&
                u.policy_tokens == static_cast<int64_t>(u.tokens.size())) {
                from_forward[sample_rollout[i]] = true;
                samples[i].old_logprobs.clear();
            }
        }
        std::vector<size_t> rows;
        for (size_t r = 0; r < rollouts.size(); ++r)
            if (needs_rescore(rollouts[r]) && !from_forward[r]) rows.push_back(r);
        rescore(rows);
        for (size_t i = 0; i < samples.size(); ++i)
            if (!from_forward[sample_rollout[i]])
                samples[i].old_logprobs = rollouts[sample_rollout[i]].generation.logprobs;
    }
    const double t_rescore_late = old_from_forward ? report.profile.rescore_s : 0.0;
    UpdateOptions uo;
    uo.loss = s.loss;
    uo.mu = s.mu;
    uo.micro_batch = s.micro_batch;
    uo.temperature = T;
    uo.schedule = s.schedule;  // one rate per optimizer update (mu per step)
    uo.old_from_forward = old_from_forward;
    uo.communicator = comm.get();
    if (const auto* rgr = recipe->find(reward::ComponentType::Rgr))
        uo.reference_length_norm = rgr->rgr.length_norm;
    const auto upd = policyUpdate(*policy, reference.get(), *optimizer, samples, uo,
                                  s.schedule.at(optimizer->stepCount()));
    // The rate of the step's last update (or the next one's when nothing was learned).
    // What the forward took as old log-probs is what the rollouts store (as a rescore would).
    for (size_t i = 0; i < upd.forward_logprobs.size(); ++i)
        if (!upd.forward_logprobs[i].empty()) {
            rollouts[sample_rollout[i]].generation.logprobs = upd.forward_logprobs[i];
            if (sampling.entropy)
                rollouts[sample_rollout[i]].generation.entropies = upd.forward_entropies[i];
        }
    const double lr = upd.optimizer_steps > 0 ? upd.lr : s.schedule.at(optimizer->stepCount());
    // nover's proxy EMA counts optimizer steps (mu per training step); every rank moves its
    // proxy from the same policy, so the proxies stay identical.
    nextOptimizerEvents(optimizer->stepCount() - upd.optimizer_steps + 1, rec);
    // A joint stage: the model is policy and judge, and the judge learns in the same step.
    std::optional<JudgeUpdateStats> judge_upd;
    if (stages && stages->stageAt(step_no).kind == reward::StageKind::Joint) {
        judge_upd = stages->judgeUpdate(step_no, *policy, *optimizer,
                                        s.schedule.at(optimizer->stepCount()));
        nextOptimizerEvents(optimizer->stepCount(), rec);
    }
    const double t_train = secondsSince(t0) - t_rescore_late;

    // 5. rank 0 gathers every rank's rollouts (in group order), then metrics and the store
    if (comm) {
        auto packed = comm->gather(packRollouts(rollouts, g_begin));
        if (!root()) return 0;
        for (int r = 1; r < world; ++r) {
            auto more = unpackRollouts(packed[r], *recipe);
            rollouts.insert(rollouts.end(), std::make_move_iterator(more.begin()),
                            std::make_move_iterator(more.end()));
        }
        // The advantage groups of every rank's groups (zero_std_frac counts them all).
        groups.clear();
        for (size_t g = 0; g < idx.size(); ++g) {
            std::vector<double> totals;
            for (int64_t k = 0; k < s.group_size; ++k)
                totals.push_back(rollouts[g * s.group_size + k].reward.total);
            groups.push_back(groupAdvantages(totals, s.advantage, s.advantage_options));
        }
    }
    int64_t generated = 0;
    for (const auto& r : rollouts) generated += static_cast<int64_t>(r.generation.tokens.size());
    metrics = rolloutMetrics(rollouts, groups);
    metrics.emplace_back("loss", upd.loss);
    metrics.emplace_back("kl", upd.kl);
    metrics.emplace_back("entropy", upd.entropy);
    metrics.emplace_back("clip_frac", upd.clip_frac);
    metrics.emplace_back("ratio_mean", upd.ratio_mean);
    metrics.emplace_back("grad_norm", upd.grad_norm);
    metrics.emplace_back("lr", lr);
    if (judge_upd) {
        metrics.emplace_back("judge/loss", judge_upd->loss);
        metrics.emplace_back("judge/grad_norm", judge_upd->grad_norm);
    }
    if (n_guided > 0) {
        std::vector<double> g, u;
        for (const auto& r : rollouts) (r.guided ? g : u).push_back(r.reward.total);
        metrics.emplace_back("guided/reward", meanStd(g).first);
        metrics.emplace_back("unguided/reward", meanStd(u).first);
    }
    if (filter) {
        metrics.emplace_back("filter/dropped_groups", static_cast<double>(dropped));
        metrics.emplace_back("filter/threshold", filter->threshold());
    }
    metrics.emplace_back("time/generate", t_generate + t_rescore_late);
    metrics.emplace_back("time/score", t_score);
    metrics.emplace_back("time/train", t_train);
    for (size_t r = 0; r < rollouts.size(); ++r)
        rec.rollouts.push_back(
            rolloutRecord(rollouts[r], all_prompts[rollouts[r].prompt], step_no));

    const bool do_eval =
        eval_set && s.eval_every > 0 && (step_no % s.eval_every == 0 || step_no == s.steps);
    if (do_eval) evaluateInto(step_no, metrics, rec);
    const double step_seconds = secondsSince(t_step);
    metrics.emplace_back("time/step", step_seconds);
    metrics.emplace_back("tokens_per_s",
                         static_cast<double>(generated) / std::max(step_seconds, 1e-9));
    metrics.emplace_back("generate/tokens_per_s",
                         static_cast<double>(generated) / std::max(t_generate, 1e-9));
    rec.metrics = metrics;
    const auto t_store = Clock::now();
    ws->writeStep(run_id, rec);
    StepProfile& p = report.profile;
    p.store_s = secondsSince(t_store);
    p.step_s = secondsSince(t_step);
    p.generate_s = old_from_forward ? t_generate : t_generate - p.rescore_s;  // sampling alone
    p.reward_s = t_score;
    p.train_s = t_train;
    p.reference_s = upd.reference_s;
    p.train_tokens = upd.forward_tokens;
    p.train_targets = upd.forward_targets;
    p.reference_tokens = upd.reference_tokens;
    p.reference_targets = upd.reference_targets;

    report.metrics.clear();
    for (const auto& [k, v] : metrics) report.metrics[k] = v;
    report.reward = report.metrics["reward/total"];
    report.eval = last_eval;
    report.step_seconds = step_seconds;
    report.tokens_per_s = report.metrics["tokens_per_s"];
    return generated;
}

void Trainer::State::nextOptimizerEvents(int64_t from, store::StepRecord& rec) {
    for (int64_t k = from; k <= optimizer->stepCount(); ++k)
        for (const auto& line : engine->afterOptimizerStep(k)) {
            rec.events.push_back(line);
            if (on_event && root()) on_event(line);
        }
}

int64_t Trainer::State::judgeStep(int64_t step_no, StepReport& report, store::StepRecord& rec,
                                  Clock::time_point t_step) {
    Metrics metrics;
    const auto t0 = Clock::now();
    const auto ju =
        stages->judgeUpdate(step_no, *policy, *optimizer, s.schedule.at(optimizer->stepCount()));
    nextOptimizerEvents(optimizer->stepCount(), rec);
    metrics.emplace_back("judge/loss", ju.loss);
    metrics.emplace_back("judge/grad_norm", ju.grad_norm);
    metrics.emplace_back("lr", ju.lr);
    metrics.emplace_back("time/train", secondsSince(t0));
    if (eval_set && s.eval_every > 0 && (step_no % s.eval_every == 0 || step_no == s.steps))
        evaluateInto(step_no, metrics, rec);
    const double step_seconds = secondsSince(t_step);
    metrics.emplace_back("time/step", step_seconds);
    rec.metrics = metrics;
    const auto t_store = Clock::now();
    ws->writeStep(run_id, rec);
    report.profile.store_s = secondsSince(t_store);
    report.profile.step_s = secondsSince(t_step);
    report.profile.train_s = secondsSince(t0);
    report.metrics.clear();
    for (const auto& [k, v] : metrics) report.metrics[k] = v;
    report.eval = last_eval;
    report.step_seconds = step_seconds;
    return 0;
}

void Trainer::State::evaluateInto(int64_t step_no, Metrics& metrics, store::StepRecord& rec) {
    const auto t0 = Clock::now();
    auto ev = evaluate(*policy, *engine, *recipe, *eval_set, s.eval_max_prompts);
    metrics.emplace_back("eval/exact_match", ev.exact_match);
    metrics.emplace_back("eval/reward", ev.reward);
    metrics.emplace_back("eval/ref_nll", ev.ref_nll);
    metrics.emplace_back("eval/length", ev.length);
    metrics.emplace_back("time/eval", secondsSince(t0));
    for (auto& er : ev.rollouts) {
        er.step = step_no;
        rec.rollouts.push_back(std::move(er));
    }
    last_eval = ev.exact_match;
    eval_prompts = ev.prompts;
    if (ev.exact_match > best_eval) {
        best_eval = ev.exact_match;
        ws->setBestEval(run_id, best_eval);
    }
}

void Trainer::State::evaluateAtStart() {
    store::StepRecord rec;
    rec.step = 0;
    Metrics metrics;
    evaluateInto(0, metrics, rec);
    first_eval = last_eval;
    rec.metrics = metrics;
    ws->writeStep(run_id, rec);
    event("evaluated the initial policy: eval/exact_match " + std::to_string(last_eval));
}

TrainResult Trainer::run(const StepCallback& on_step, const EventCallback& on_event) {
    m->on_event = on_event;
    if (m->opt.dist.enabled()) m->comm = Communicator::connect(m->opt.dist);
    m->setUp();
    TrainResult result;
    result.run = m->run_id;
    result.root = m->root();
    try {
        if (m->root() && m->start_step == 0 && m->eval_set && m->s.eval_every > 0 &&
            m->s.eval_at_start)
            m->evaluateAtStart();
        const auto t_run = Clock::now();
        int64_t done = 0;
        for (int64_t step_no = m->start_step + 1; step_no <= m->s.steps; ++step_no) {
            StepReport report;
            report.run = m->run_id;
            report.step = step_no;
            report.steps = m->s.steps;
            m->step(step_no, report);
            ++done;
            const double per_step = secondsSince(t_run) / static_cast<double>(done);
            report.eta_seconds = per_step * static_cast<double>(m->s.steps - step_no);
            result.last_step = step_no;
            bool stop = stopRequested() || (m->opt.stop_after > 0 && done >= m->opt.stop_after);
            int signal = stopSignal();
            const bool last = step_no == m->s.steps;
            if (m->comm) {
                // A stop asked of any rank stops them all after this step.
                auto flags =
                    torch::tensor({stop ? 1.0 : 0.0, static_cast<double>(signal)}, torch::kFloat64);
                m->comm->allReduce(flags, ReduceOp::Max);
                stop = flags[0].item<double>() > 0;
                signal = static_cast<int>(flags[1].item<double>());
                if ((m->opt.checksum_every > 0 && step_no % m->opt.checksum_every == 0) || stop ||
                    last)
                    m->comm->checkIdentical(
                        tensorChecksum(m->replicatedTensors()),
                        "the policy and proxy parameters after step " + std::to_string(step_no));
            }
            if (!m->root()) {
                if (stop && !last) {
                    result.status = "stopped";
                    return result;
                }
                continue;
            }
            const bool at_end = m->opt.checkpoint_at_end && (stop || last);
            if ((m->s.checkpoint_every > 0 && step_no % m->s.checkpoint_every == 0) || at_end)
                m->writeCheckpoint(step_no);
            if (on_step) on_step(report);
            if (stop && !last) {
                m->ws->setRunStatus(m->run_id, store::RunStatus::Stopped);
                m->event(signal ? "stopped by signal " + std::to_string(signal) + " after step " +
                                      std::to_string(step_no)
                                : "stopped after step " + std::to_string(step_no));
                result.status = "stopped";
                result.last_checkpoint = m->last_checkpoint_dir;
                return result;
            }
        }
        if (m->root()) m->ws->setRunStatus(m->run_id, store::RunStatus::Finished);
        result.eval_before = m->first_eval;
        result.eval_after = m->last_eval;
        result.eval_prompts = m->eval_prompts;
        result.status = "finished";
        result.last_checkpoint = m->last_checkpoint_dir;
        return result;
    } catch (const std::exception& e) {
        // Another rank that died or stopped answering leaves the run resumable: 'interrupted'.
        const bool lost_rank = dynamic_cast<const DistributedError*>(&e) != nullptr;
        if (m->ws) try {
                m->ws->addEvent(m->run_id,
                                std::string(lost_rank ? "interrupted: " : "failed: ") + e.what());
                m->ws->setRunStatus(m->run_id, lost_rank ? store::RunStatus::Interrupted
                                                         : store::RunStatus::Failed);
            } catch (...) {
                // The store itself failed (disk full, ...): the original error is the one to
                // report.
            }
        throw;
    }
}

}  // namespace reflab::train
