// Rollouts to and from MessagePack (nlohmann) for the gather to rank 0.
#include "core/train/rollout_exchange.h"

#include <nlohmann/json.hpp>

#include "core/train/train_error.h"

namespace reflab::train {

namespace {

model::FinishReason finishFromName(const std::string& name) {
    if (name == "eos") return model::FinishReason::Eos;
    if (name == "stop") return model::FinishReason::StopString;
    return model::FinishReason::Length;
}

}  // namespace

std::string packRollouts(const std::vector<Rollout>& rollouts, int64_t first_group) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& r : rollouts) {
        nlohmann::json comps = nlohmann::json::array();
        for (const auto& c : r.reward.components)
            comps.push_back({{"name", c.name},
                             {"value", c.value},
                             {"weight", c.weight},
                             {"details", c.details}});
        all.push_back({{"group", first_group + r.group},
                       {"sample", r.sample},
                       {"tokens", r.generation.tokens},
                       {"logprobs", r.generation.logprobs},
                       {"entropies", r.generation.entropies},
                       {"finish", model::finishReasonName(r.generation.finish)},
                       {"text", r.generation.text},
                       {"completion", r.completion},
                       {"total", r.reward.total},
                       {"format_valid", r.reward.format_valid},
                       {"components", comps},
                       {"advantage", r.advantage},
                       {"kept", r.kept},
                       {"policy_tokens", r.policy_tokens},
                       {"guided", r.guided}});
    }
    const auto bytes = nlohmann::json::to_msgpack(all);
    return std::string(bytes.begin(), bytes.end());
}

std::vector<Rollout> unpackRollouts(const std::string& bytes, const reward::Recipe& recipe) {
    std::vector<Rollout> out;
    try {
        const auto all = nlohmann::json::from_msgpack(bytes);
        for (const auto& j : all) {
            Rollout r;
            r.group = j.at("group").get<int>();
            r.prompt = static_cast<size_t>(r.group);
            r.sample = j.at("sample").get<int>();
            r.generation.tokens = j.at("tokens").get<std::vector<int32_t>>();
            r.generation.logprobs = j.at("logprobs").get<std::vector<float>>();
            r.generation.entropies = j.at("entropies").get<std::vector<float>>();
            r.generation.finish = finishFromName(j.at("finish").get<std::string>());
            r.generation.text = j.at("text").get<std::string>();
            r.completion = j.at("completion").get<std::string>();
            r.parsed = text::parseCompletion(r.completion, recipe.templ.think, recipe.templ.answer);
            r.reward.total = j.at("total").get<double>();
            r.reward.format_valid = j.at("format_valid").get<bool>();
            for (const auto& c : j.at("components"))
                r.reward.components.push_back({c.at("name").get<std::string>(),
                                               c.at("value").get<double>(),
                                               c.at("weight").get<double>(), c.at("details")});
            r.advantage = j.at("advantage").get<double>();
            r.kept = j.at("kept").get<bool>();
            r.policy_tokens = j.at("policy_tokens").get<int64_t>();
            r.guided = j.at("guided").get<bool>();
            out.push_back(std::move(r));
        }
    } catch (const nlohmann::json::exception& e) {
        throw TrainError(std::string("rollouts from another rank: malformed data (") + e.what() +
                         ")");
    }
    return out;
}

}  // namespace reflab::train
