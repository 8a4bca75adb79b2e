// Supervised fine-tuning loop.
#include "core/train/sft.h"

#include <chrono>
#include <filesystem>

#include "core/data/jsonl_dataset.h"
#include "core/data/prompt_sampler.h"
#include "core/model/language_model.h"
#include "core/model/scoring.h"
#include "core/train/lr_schedule.h"
#include "core/train/optimizer.h"
#include "core/train/stop_signal.h"
#include "core/train/train_error.h"
#include "core/train/train_settings.h"

namespace reflab::train {

namespace {

struct SftExample {
    std::vector<int32_t> context, target;
};

}  // namespace

SftResult runSft(const SftOptions& o, const std::function<void(const SftStepReport&)>& on_step) {
    using Clock = std::chrono::steady_clock;
    if (o.epochs < 1 || o.batch < 1)
        throw TrainError("sft: --epochs and --batch must be at least 1");
    if (o.out_dir.empty()) throw TrainError("sft: --out is required");
    const auto data = data::JsonlDataset::load(o.data_path, {o.prompt_field, o.target_field});
    model::LoadOptions lo;
    lo.dtype = dtypeFromName(o.dtype);
    auto policy = model::LanguageModel::load(o.model_dir, lo);
    const auto& tok = policy->tokenizer();
    const auto& tmpl = policy->chatTemplate();
    // The end of the assistant's turn, so the model learns to stop.
    std::vector<int32_t> end_of_turn;
    if (!tmpl.stopStrings().empty())
        end_of_turn = tok.encode(tmpl.stopStrings().front());
    else if (!policy->config().eos_token_ids.empty())
        end_of_turn = {policy->config().eos_token_ids.front()};

    std::vector<SftExample> examples;
    for (const auto& ex : data.examples()) {
        std::vector<text::ChatMessage> msgs;
        if (!o.system.empty()) msgs.push_back({"system", o.system});
        msgs.push_back({"user", ex.prompt});
        SftExample e;
        e.context = policy->encodePrompt(tmpl.render(msgs, /*add_generation_prompt=*/true));
        e.target = tok.encode(ex.reference);
        e.target.insert(e.target.end(), end_of_turn.begin(), end_of_turn.end());
        if (e.target.empty())
            throw TrainError(o.data_path + ":" + std::to_string(ex.line) + ": field '" +
                             o.target_field + "' is empty");
        if (static_cast<int64_t>(e.context.size() + e.target.size()) > o.max_tokens)
            throw TrainError(o.data_path + ":" + std::to_string(ex.line) +
                             ": prompt + target are " +
                             std::to_string(e.context.size() + e.target.size()) +
                             " tokens, more than the limit " + std::to_string(o.max_tokens));
        examples.push_back(std::move(e));
    }

    const int64_t per_epoch = (static_cast<int64_t>(examples.size()) + o.batch - 1) / o.batch;
    const int64_t steps = per_epoch * o.epochs;
    LrSchedule schedule{o.lr, o.warmup_steps, lrDecayFromName(o.schedule), steps, 0.0};
    OptimizerOptions oo;
    oo.weight_decay = o.weight_decay;
    oo.max_grad_norm = o.max_grad_norm;
    PolicyOptimizer optimizer(policy->parameters(), oo);
    data::PromptSampler sampler(examples.size(), o.seed);

    SftResult result;
    const auto t_start = Clock::now();
    for (int64_t step = 0; step < steps; ++step) {
        const auto t0 = Clock::now();
        const int64_t epoch = step / per_epoch;
        // The last batch of an epoch is short rather than spilling into the next epoch.
        const int64_t in_epoch = step % per_epoch;
        const int64_t size =
            std::min<int64_t>(o.batch, static_cast<int64_t>(examples.size()) - in_epoch * o.batch);
        const auto idx = sampler.next(static_cast<size_t>(size));
        std::vector<model::ScoreRequest> reqs;
        double tokens = 0;
        for (size_t i : idx) {
            reqs.push_back({examples[i].context, examples[i].target});
            tokens += static_cast<double>(examples[i].target.size() + examples[i].context.size());
        }
        optimizer.zeroGrad();
        model::ScoreOptions so;
        so.with_grad = true;
        const auto scored = model::scoreTargets(*policy, reqs, so);
        torch::Tensor sum = torch::zeros({}, scored.logprobs.front().options());
        double n = 0;
        for (const auto& lp : scored.logprobs) {
            sum = sum + lp.sum();
            n += static_cast<double>(lp.numel());
        }
        const auto loss = -sum / std::max(n, 1.0);
        loss.backward();
        const double lr = schedule.at(step);
        const auto info = optimizer.step(lr);
        optimizer.zeroGrad();
        const double l = loss.item<double>();
        if (step == 0) result.first_loss = l;
        result.last_loss = l;
        result.steps = step + 1;
        if (on_step) {
            SftStepReport r;
            r.step = step + 1;
            r.steps = steps;
            r.epoch = epoch + 1;
            r.loss = l;
            r.lr = lr;
            r.grad_norm = info.grad_norm;
            const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
            r.tokens_per_s = tokens / std::max(dt, 1e-9);
            const double per =
                std::chrono::duration<double>(Clock::now() - t_start).count() / double(step + 1);
            r.eta_seconds = per * double(steps - step - 1);
            on_step(r);
        }
        if (stopRequested()) {
            result.stopped = true;
            break;
        }
    }
    std::filesystem::create_directories(o.out_dir);
    policy->saveHfDirectory(o.out_dir);
    return result;
}

}  // namespace reflab::train
