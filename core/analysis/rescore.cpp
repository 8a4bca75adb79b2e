// rescore(): models first (every failure before the set exists), then step by step, group by
// group through the reward engine, a transaction per batch. See rescore.h.
#include "core/analysis/rescore.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/reward/reward_engine.h"

namespace reflab::analysis {

namespace {

using Clock = std::chrono::steady_clock;

bool judged(const reward::RubricOptions& o) {
    if (o.contrastive) return true;
    for (const auto& k : o.criteria)
        if (k.kind == reward::CriterionKind::Judge) return true;
    return false;
}

// Loads the policy the components share (null when none needs it), checking first that every
// model directory any component names has a readable config, so a bad one is named with its
// component before anything heavy is loaded.
std::shared_ptr<model::LanguageModel> loadModels(const reward::Recipe& recipe) {
    const auto needs = modelNeeds(recipe);
    const auto fail = [&](const ModelNeed& n, const std::string& why) {
        return RescoreError("reward component \"" + n.component + "\" needs the model " +
                            (n.dir.empty() ? std::string() : "'" + n.dir + "' ") + "(" + n.field +
                            " in " + recipe.source + "), which cannot be loaded: " + why);
    };
    for (const ModelNeed& n : needs) {
        if (n.dir.empty()) throw fail(n, "no directory given");
        try {
            model::loadModelConfig(n.dir);
        } catch (const std::exception& e) {
            throw fail(n, e.what());
        }
    }
    for (const ModelNeed& n : needs) {
        if (n.field != "model.path") continue;
        try {
            return model::LanguageModel::load(
                n.dir, model::loadOptionsFrom(recipe.model.dtype, recipe.model.device));
        } catch (const std::exception& e) {
            throw fail(n, e.what());
        }
    }
    return nullptr;
}

// Reads the steps' inputs ahead on a thread of its own, over a read-only connection (WAL lets
// it read while rescore() writes the set): decoding each completion from its tokens blob costs
// about as much as scoring and writing it, so on two cores the halves overlap. Holds at most
// `depth` steps; a reader's error is rethrown by next().
class InputPrefetch {
public:
    InputPrefetch(const std::string& path, int64_t set, std::vector<int64_t> steps, size_t depth)
        : m_depth(depth),
          m_thread([this, path, set, steps = std::move(steps)] { read(path, set, steps); }) {}
    ~InputPrefetch() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_changed.notify_all();
        m_thread.join();
    }
    InputPrefetch(const InputPrefetch&) = delete;
    InputPrefetch& operator=(const InputPrefetch&) = delete;

    // The next step's inputs into `out`; false when every step has been read.
    bool next(std::vector<store::RescoreInput>& out) {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_changed.wait(lock, [&] { return !m_steps.empty() || m_done; });
        if (!m_steps.empty()) {
            out = std::move(m_steps.front());
            m_steps.pop_front();
            m_changed.notify_all();
            return true;
        }
        if (m_error) std::rethrow_exception(m_error);
        return false;
    }

private:
    void read(const std::string& path, int64_t set, const std::vector<int64_t>& steps) {
        try {
            auto reader = store::Workspace::open(path, /*read_only=*/true);
            for (const int64_t step : steps) {
                auto inputs = reader.rescoreInputs(set, step);
                std::unique_lock<std::mutex> lock(m_mutex);
                m_changed.wait(lock, [&] { return m_steps.size() < m_depth || m_stop; });
                if (m_stop) break;
                m_steps.push_back(std::move(inputs));
                m_changed.notify_all();
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_done = true;
        m_changed.notify_all();
    }

    const size_t m_depth;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<std::vector<store::RescoreInput>> m_steps;
    bool m_stop = false, m_done = false;
    std::exception_ptr m_error;
    std::thread m_thread;  // last: it starts once the members above exist
};

std::string groupId(const store::RescoreInput& in) {
    return (in.is_eval ? "eval:" : "") + std::to_string(in.step) + ":" + std::to_string(in.group);
}

}  // namespace

std::vector<ModelNeed> modelNeeds(const reward::Recipe& recipe) {
    std::vector<ModelNeed> out;
    const auto add = [&](const std::string& component, const std::string& dir,
                         const std::string& field) {
        for (const auto& n : out)
            if (n.dir == dir && n.field == field) return;
        out.push_back({component, dir, field});
    };
    for (size_t i = 0; i < recipe.rewards.size(); ++i) {
        const reward::ComponentSpec& c = recipe.rewards[i];
        const std::string at = "rewards[" + std::to_string(i) + "]";
        switch (c.type) {
            case reward::ComponentType::Nover:
                add(c.name, recipe.model.path, "model.path");
                if (!c.nover.proxy_model.empty())
                    add(c.name, c.nover.proxy_model, at + ".proxy.model");
                break;
            case reward::ComponentType::Rgr:
            case reward::ComponentType::Rlpr:
                add(c.name, recipe.model.path, "model.path");
                break;
            case reward::ComponentType::Rubric:
                if (!judged(c.rubric)) break;
                if (c.rubric.judge == reward::JudgeSource::Dir)
                    add(c.name, c.rubric.judge_path, at + ".judge.path");
                else
                    add(c.name, recipe.model.path, "model.path");
                break;
            case reward::ComponentType::Format:
            case reward::ComponentType::ExactMatch:
                break;
        }
    }
    return out;
}

RescoreResult rescore(store::Workspace& ws, const reward::Recipe& recipe,
                      const RescoreOptions& options) {
    if (!ws.run(options.run))
        throw RescoreError(ws.path() + ": no run '" + options.run + "' in this workspace");
    if (options.set_name.empty()) throw RescoreError("rescore: the reward set needs a name");
    RescoreResult result;
    const std::string recipe_json = recipe.resolved.dump();
    if (const auto existing = ws.rewardSet(options.run, options.set_name)) {
        const auto stored = nlohmann::json::parse(existing->recipe_json, nullptr, false);
        if (stored != recipe.resolved)
            throw RescoreError("run '" + options.run + "' has a reward set '" + options.set_name +
                               "' scored with another recipe; give --name " +
                               "another name to keep both");
        result.resumed = true;
    }

    // Every model before the set exists: a failure leaves the workspace as it was.
    const auto policy = loadModels(recipe);
    std::unique_ptr<reward::RewardEngine> engine;
    try {
        engine = std::make_unique<reward::RewardEngine>(recipe, policy);
    } catch (const reward::RewardError&) {
        throw;
    } catch (const std::exception& e) {
        throw RescoreError(recipe.source +
                           ": the reward components' models cannot be loaded: " + e.what());
    }

    result.set = ws.openRewardSet(options.run, options.set_name, recipe_json);
    const int64_t set = result.set.id;
    const auto t0 = Clock::now();
    RescoreProgress& p = result.progress;
    const auto [total, done] = ws.rescoreProgress(set, options.step_min, options.step_max);
    p.total = total;
    p.done = done;
    const auto report = [&] {
        p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        if (options.on_progress) options.on_progress(p);
    };
    report();

    // A batch is written on a thread of its own while the next one is scored (one write in
    // flight; get() waits for it and rethrows its error). Only that thread touches `ws` and
    // `p` until the loop ends, so the progress callback is called from it.
    std::vector<store::SetRewardRecord> pending;
    std::future<void> writing;
    const auto flush = [&] {
        if (pending.empty()) return;
        if (writing.valid()) writing.get();
        writing = std::async(std::launch::async, [&, records = std::move(pending)] {
            ws.writeSetRewards(set, records);
            p.scored += static_cast<int64_t>(records.size());
            p.done += static_cast<int64_t>(records.size());
            ++p.batches;
            report();
            if (options.batch_delay_ms > 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(options.batch_delay_ms));
        });
        pending.clear();
    };
    const size_t batch = static_cast<size_t>(std::max<int64_t>(1, options.batch));
    std::vector<reward::RewardInput> group;
    std::vector<int64_t> ids;
    InputPrefetch prefetch(ws.path(), set,
                           ws.rolloutSteps(options.run, options.step_min, options.step_max),
                           /*depth=*/4);
    std::vector<store::RescoreInput> inputs;  // one step's; its texts move into the engine's input
    while (prefetch.next(inputs)) {
        for (size_t begin = 0; begin < inputs.size();) {
            // One group: the rollouts of one prompt of this step (train or eval), in sample order.
            size_t end = begin + 1;
            while (end < inputs.size() && inputs[end].is_eval == inputs[begin].is_eval &&
                   inputs[end].group == inputs[begin].group)
                ++end;
            group.clear();
            ids.clear();
            const std::string group_id = groupId(inputs[begin]);
            for (size_t k = begin; k < end; ++k) {
                store::RescoreInput& in = inputs[k];
                reward::RewardInput r;
                r.prompt = std::move(in.prompt);
                r.completion = std::move(in.completion);
                r.reference = std::move(in.reference);
                r.group_id = group_id;
                r.sample = in.sample;
                r.truncated = in.finish_reason == "length";
                group.push_back(std::move(r));
                ids.push_back(in.id);
            }
            auto outs = engine->scoreGroup(group);
            for (size_t k = 0; k < outs.size(); ++k) {
                store::SetRewardRecord rec;
                rec.rollout_id = ids[k];
                rec.total = outs[k].total;
                rec.format_valid = outs[k].format_valid;
                for (auto& c : outs[k].components)
                    rec.components.push_back(
                        {c.name, c.value, reward::storedDetails(std::move(c))});
                pending.push_back(std::move(rec));
            }
            if (pending.size() >= batch) flush();
            begin = end;
        }
    }
    flush();
    if (writing.valid()) writing.get();
    result.set = *ws.rewardSet(options.run, options.set_name);
    p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return result;
}

}  // namespace reflab::analysis
