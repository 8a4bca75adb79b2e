// RewardEngine: one group in, every component's value and intermediates out,
// with one batched call per model. See reward_engine.h for the forwards per
// group.
#include "core/reward/reward_engine.h"

#include <cmath>
#include <set>

#include "core/model/language_model.h"
#include "core/model/scoring.h"
#include "core/reward/reference_request.h"
#include "core/reward/reverse_reasoning.h"
#include "core/reward/reward_exact_match.h"
#include "core/reward/reward_format.h"
#include "core/reward/reward_judge.h"
#include "core/reward/reward_nover.h"
#include "core/reward/reward_reference_texts.h"
#include "core/reward/reward_rgr.h"
#include "core/reward/reward_rlpr.h"
#include "core/reward/reward_rubric.h"
#include "core/reward/rubric_rules.h"
#include "core/text/chat_template.h"
#include "core/text/completion_format.h"
#include "core/text/tokenizer.h"

namespace reflab::reward {
namespace {

using model::LanguageModel;
using model::ScoreRequest;

bool emptyText(const std::string& s) {
    return text::stripWhitespace(s).empty();
}

ScoreRequest makeRequest(const LanguageModel& m, const std::string& context,
                         const std::string& target) {
    return {m.encodePrompt(context), m.tokenizer().encode(target)};
}

// One scoreTargets call; per request the (|target|) log-probs as floats on the host, from
// softmax(logits / temperature).
std::vector<std::vector<float>> scoreAll(const LanguageModel& m,
                                         const std::vector<ScoreRequest>& requests,
                                         double temperature = 1.0) {
    std::vector<std::vector<float>> out;
    if (requests.empty()) return out;
    model::ScoreOptions options;
    options.temperature = temperature;
    const model::ScoreResult r = model::scoreTargets(m, requests, options);
    for (const auto& t : r.logprobs) {
        const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
        out.emplace_back(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    }
    return out;
}

double sum(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += x;
    return s;
}

std::string baselineKey(const RewardInput& in) {
    return in.prompt + '\x1f' + in.reference;
}

}  // namespace

std::string renderPrompt(const Recipe& recipe, const text::ChatTemplate& chat,
                         const std::string& question) {
    std::vector<text::ChatMessage> messages;
    if (!recipe.templ.system.empty()) messages.push_back({"system", recipe.templ.system});
    messages.push_back({"user", fillPlaceholders(recipe.templ.user, {{"question", question}})});
    return chat.render(messages, /*add_generation_prompt=*/true);
}

std::string renderGuidedPrompt(const Recipe& recipe, const text::ChatTemplate& chat,
                               const std::string& question, const std::string& reference) {
    std::vector<text::ChatMessage> messages;
    if (!recipe.templ.system.empty()) messages.push_back({"system", recipe.templ.system});
    const std::string user = fillPlaceholders(recipe.templ.user, {{"question", question}});
    messages.push_back({"user", reversePrompt(recipe.reverse_reasoning.prompt, user, reference)});
    return chat.render(messages, /*add_generation_prompt=*/true);
}

double scoringTemperature(const Recipe& recipe) {
    const double t = recipe.generation.temperature;
    return t > 0 ? t : 1.0;
}

RewardEngine::RewardEngine(const Recipe& recipe, std::shared_ptr<LanguageModel> policy,
                           EngineOptions options)
    : m_recipe(recipe),
      m_options(options),
      m_temperature(scoringTemperature(recipe)),
      m_policy(std::move(policy)) {
    const auto needPolicy = [&](const ComponentSpec& c) {
        if (!m_policy)
            throw RewardError("reward component \"" + c.name +
                              "\" needs a model: give --model DIR or model.path in the recipe");
    };
    for (size_t i = 0; i < m_recipe.rewards.size(); ++i) {
        const ComponentSpec& c = m_recipe.rewards[i];
        switch (c.type) {
            case ComponentType::Nover:
                needPolicy(c);
                m_proxy[i] = c.nover.proxy_model.empty()
                                 ? m_policy->clone()
                                 : LanguageModel::load(c.nover.proxy_model,
                                                       {m_policy->dtype(), m_policy->device()});
                break;
            case ComponentType::Rgr:
                needPolicy(c);
                break;
            case ComponentType::Rlpr:
                needPolicy(c);
                if (c.rlpr.debias && !m_initial) m_initial = m_policy->clone();
                if (c.rlpr.std_filter.enabled && !m_std_filter)
                    m_std_filter = std::make_unique<StdFilter>(c.rlpr.std_filter);
                break;
            case ComponentType::Rubric: {
                bool judged = false;
                for (const auto& k : c.rubric.criteria) judged |= k.kind == CriterionKind::Judge;
                judged |= c.rubric.contrastive;
                if (!judged) break;
                if (c.rubric.judge == JudgeSource::Dir) {
                    const torch::Dtype dt = m_policy ? m_policy->dtype() : torch::kFloat32;
                    const torch::Device dev = m_policy ? m_policy->device() : torch::kCPU;
                    m_judge[i] = LanguageModel::load(c.rubric.judge_path, {dt, dev});
                } else {
                    needPolicy(c);
                    m_judge[i] =
                        c.rubric.judge == JudgeSource::Snapshot ? m_policy->clone() : m_policy;
                }
                break;
            }
            case ComponentType::Format:
            case ComponentType::ExactMatch:
                break;
        }
    }
}

RewardEngine::~RewardEngine() = default;

void RewardEngine::setJudge(std::shared_ptr<model::LanguageModel> judge) {
    if (!judge) return;
    for (auto& [ci, j] : m_judge) j = judge;
}

std::shared_ptr<model::LanguageModel> RewardEngine::judge(size_t component) const {
    const auto it = m_judge.find(component);
    return it == m_judge.end() ? nullptr : it->second;
}

StdFilter* RewardEngine::stdFilter() {
    return m_std_filter.get();
}

std::shared_ptr<LanguageModel> RewardEngine::proxyModel() const {
    return m_proxy.empty() ? nullptr : m_proxy.begin()->second;
}

std::vector<std::string> RewardEngine::afterOptimizerStep(int64_t step) {
    std::vector<std::string> events;
    for (auto& [index, proxy] : m_proxy) {
        const NoverOptions& o = m_recipe.rewards[index].nover;
        if (o.proxy_alpha >= 1.0 || step <= 0 || step % o.proxy_sync_every != 0) continue;
        proxyEmaUpdate(proxy->parameters(), m_policy->parameters(), o.proxy_alpha);
        events.push_back("nover proxy updated at step " + std::to_string(step) + " (alpha " +
                         std::to_string(o.proxy_alpha) + ")");
    }
    return events;
}

std::vector<RewardOutput> RewardEngine::scoreGroup(const std::vector<RewardInput>& group) {
    torch::NoGradGuard no_grad;
    const TemplateSection& tp = m_recipe.templ;
    const size_t G = group.size();
    std::vector<text::ParsedCompletion> parsed(G);
    std::vector<RewardOutput> out(G);
    for (size_t i = 0; i < G; ++i) {
        parsed[i] = text::parseCompletion(group[i].completion, tp.think, tp.answer);
        out[i].format_valid = parsed[i].format_valid;
        for (const auto& c : m_recipe.rewards)
            out[i].components.push_back({c.name, 0, c.weight, {}});
    }

    // ---- Phase 1: the scoring requests of every component, grouped by model.
    // ----
    std::vector<ScoreRequest> policy_reqs;                   // rgr + rlpr r_B
    std::map<size_t, std::vector<ScoreRequest>> proxy_reqs;  // nover, per component
    std::vector<ScoreRequest> initial_reqs;                  // rlpr r_A (not cached yet)
    std::vector<std::string> initial_keys;
    std::map<size_t, JudgeBatch> judge_batches;  // rubric, per component
    // Per component and rollout: index of its request in its model's list (−1:
    // none).
    std::vector<std::vector<int64_t>> req(m_recipe.rewards.size(), std::vector<int64_t>(G, -1));
    std::vector<std::vector<std::pair<std::string, std::string>>> texts(
        m_recipe.rewards.size(), std::vector<std::pair<std::string, std::string>>(G));
    std::vector<int64_t> reasoning_tokens(G, 0);
    std::vector<bool> nover_valid(G, false);
    // nover's gate is the recipe's format value R_f (its first format component); a recipe
    // without one gates on NOVER's own whitespace-free check.
    const ComponentSpec* format_spec = m_recipe.find(ComponentType::Format);
    std::vector<bool> recipe_format(G, false);
    for (size_t i = 0; i < G; ++i)
        recipe_format[i] =
            format_spec ? formatComponent(group[i].completion, tp.think, tp.answer,
                                          format_spec->format.check)
                                  .value > 0.5
                        : text::formatValidWhitespaceFree(group[i].completion, tp.think, tp.answer);

    for (size_t ci = 0; ci < m_recipe.rewards.size(); ++ci) {
        const ComponentSpec& c = m_recipe.rewards[ci];
        for (size_t i = 0; i < G; ++i) {
            const RewardInput& in = group[i];
            const bool ref_empty = emptyText(in.reference);
            if (c.type == ComponentType::Nover) {
                const auto& proxy = *m_proxy.at(ci);
                reasoning_tokens[i] =
                    static_cast<int64_t>(proxy.tokenizer().encode(parsed[i].reasoning).size());
                nover_valid[i] = !ref_empty && recipe_format[i];
                if (!nover_valid[i]) continue;
                const auto t = noverTexts(in.prompt, parsed[i].reasoning, in.reference, tp,
                                          c.nover.score_tags);
                req[ci][i] = static_cast<int64_t>(proxy_reqs[ci].size());
                proxy_reqs[ci].push_back(makeRequest(proxy, t.context, t.target));
                texts[ci][i] = {t.context, t.target};
            } else if (c.type == ComponentType::Rgr) {
                if (!parsed[i].has_answer || in.truncated || ref_empty) continue;
                const auto t = referenceTexts(in.prompt, in.completion, parsed[i].answer_open,
                                              in.reference, tp, c.rgr.score_tags);
                req[ci][i] = static_cast<int64_t>(policy_reqs.size());
                policy_reqs.push_back(referenceRequest(*m_policy, t));
                texts[ci][i] = {t.context, t.target};
            } else if (c.type == ComponentType::Rlpr) {
                if (ref_empty) continue;
                const std::string key = baselineKey(in);
                if (c.rlpr.debias && !m_r_A_cache.count(key) &&
                    std::find(initial_keys.begin(), initial_keys.end(), key) ==
                        initial_keys.end()) {
                    const auto b = rlprBaselineTexts(in.prompt, in.reference);
                    initial_keys.push_back(key);
                    initial_reqs.push_back(referenceRequest(*m_initial, b));
                }
                // RLPR masks a rollout without a scorable answer block: r_B = 0, not scored.
                if (c.rlpr.mask_unanswered && !rlprScorable(in.completion, tp.think, tp.answer))
                    continue;
                const auto t = referenceTexts(in.prompt, in.completion, parsed[i].answer_open,
                                              in.reference, tp, c.rlpr.score_tags);
                req[ci][i] = static_cast<int64_t>(policy_reqs.size());
                policy_reqs.push_back(referenceRequest(*m_policy, t));
                texts[ci][i] = {t.context, t.target};
            }
        }
        if (c.type == ComponentType::Rubric && m_judge.count(ci))
            judge_batches[ci] = buildJudgeBatch(c.rubric, *m_judge.at(ci), group, parsed);
    }

    // ---- Phase 2: one batched call per model. ----
    std::map<size_t, std::vector<std::vector<float>>> proxy_lp;
    for (auto& [ci, reqs] : proxy_reqs) {
        proxy_lp[ci] = scoreAll(*m_proxy.at(ci), reqs);
        ++m_forwards["proxy"];
    }
    std::vector<std::vector<float>> policy_lp;
    if (!policy_reqs.empty()) {
        policy_lp = scoreAll(*m_policy, policy_reqs, m_temperature);
        ++m_forwards["policy"];
    }
    if (!initial_reqs.empty()) {
        const auto lp = scoreAll(*m_initial, initial_reqs, m_temperature);
        ++m_forwards["initial"];
        for (size_t k = 0; k < lp.size(); ++k) m_r_A_cache[initial_keys[k]] = meanTokenProb(lp[k]);
    }
    std::map<size_t, JudgeResults> judged;
    for (auto& [ci, batch] : judge_batches) {
        judged[ci] = runJudgeBatch(*m_judge.at(ci), batch, &m_forwards["judge"]);
    }

    // ---- Phase 3: the formulas. ----
    bool format_set = false;  // the first format component has set format_valid
    for (size_t ci = 0; ci < m_recipe.rewards.size(); ++ci) {
        const ComponentSpec& c = m_recipe.rewards[ci];
        auto explain = [&](size_t i, nlohmann::json extra) {
            if (!m_options.explain) return;
            nlohmann::json e = std::move(extra);
            if (!texts[ci][i].first.empty() || !texts[ci][i].second.empty()) {
                e["context_tail"] =
                    texts[ci][i].first.size() > 200
                        ? "…" + texts[ci][i].first.substr(texts[ci][i].first.size() - 200)
                        : texts[ci][i].first;
                e["target"] = texts[ci][i].second;
            }
            out[i].components[ci].details["explain"] = e;
        };
        // The explain block of a model-scored component: the scored tokens'
        // log-probs (from that model's batch `lps`), or nothing for a rollout that
        // was not scored.
        auto explainScored = [&](size_t i, const std::vector<std::vector<float>>& lps) {
            if (req[ci][i] >= 0)
                explain(i, {{"token_logprobs", lps[static_cast<size_t>(req[ci][i])]}});
            else
                explain(i, nlohmann::json::object());
        };
        switch (c.type) {
            case ComponentType::Format:
                for (size_t i = 0; i < G; ++i) {
                    auto v =
                        formatComponent(group[i].completion, tp.think, tp.answer, c.format.check);
                    out[i].components[ci].value = v.value;
                    out[i].components[ci].details = v.details;
                    // The rollout's "format valid" (format rate, rollout filters) is the check the
                    // recipe chose for its format reward, so the two never disagree on a chart.
                    if (!format_set) out[i].format_valid = v.value > 0.5;
                }
                format_set = true;
                break;
            case ComponentType::ExactMatch:
                for (size_t i = 0; i < G; ++i) {
                    auto v = exactMatchComponent(parsed[i].answer, group[i].reference);
                    out[i].components[ci].value = v.value;
                    out[i].components[ci].details = v.details;
                }
                break;
            case ComponentType::Nover: {
                std::vector<NoverRollout> rollouts(G);
                std::vector<double> lp_sum(G, 0);
                std::vector<int64_t> tgt(G, 0);
                for (size_t i = 0; i < G; ++i) {
                    rollouts[i].valid = nover_valid[i];
                    rollouts[i].reasoning_tokens = reasoning_tokens[i];
                    if (req[ci][i] < 0) continue;
                    const auto& lp = proxy_lp[ci][static_cast<size_t>(req[ci][i])];
                    lp_sum[i] = sum(lp);
                    tgt[i] = static_cast<int64_t>(lp.size());
                    rollouts[i].P_r =
                        noverPerplexity(lp_sum[i], tgt[i], reasoning_tokens[i], c.nover.log_base);
                }
                const auto scores = noverScoreGroup(rollouts, c.nover);
                for (size_t i = 0; i < G; ++i) {
                    const auto& s = scores[i];
                    auto& d = out[i].components[ci].details;
                    out[i].components[ci].value = s.value;
                    d = {{"valid", s.valid}, {"reasoning_tokens", reasoning_tokens[i]}};
                    if (s.valid) {
                        d["P_r"] = rollouts[i].P_r;
                        d["rank"] = s.rank;
                        d["R_r"] = s.R_r;
                        d["R_e"] = s.R_e;
                        d["log_prob_sum"] = lp_sum[i];
                        d["target_tokens"] = tgt[i];
                        d["N"] = noverNormalizer(reasoning_tokens[i], c.nover.log_base);
                    } else {
                        d["R_r"] = 0.0;
                        d["R_e"] = 0.0;
                        d["reason"] = emptyText(group[i].reference) ? "empty reference"
                                                                    : "format check failed";
                    }
                    explainScored(i, proxy_lp[ci]);
                }
                break;
            }
            case ComponentType::Rgr: {
                std::vector<double> R(G, 0);
                std::vector<RgrRollout> rr(G);
                for (size_t i = 0; i < G; ++i) {
                    rr[i].has_answer = parsed[i].has_answer;
                    rr[i].truncated = group[i].truncated;
                    if (req[ci][i] >= 0) {
                        const auto& lp = policy_lp[static_cast<size_t>(req[ci][i])];
                        rr[i].logprob_sum = sum(lp);
                        rr[i].reference_tokens = static_cast<int64_t>(lp.size());
                    }
                    R[i] = rgrReward(rr[i], c.rgr.length_norm);
                }
                const auto adv = rlooAdvantages(R);
                for (size_t i = 0; i < G; ++i) {
                    auto& d = out[i].components[ci].details;
                    out[i].components[ci].value = R[i];
                    d = {{"log_prob_sum", rr[i].logprob_sum},
                         {"reference_tokens", rr[i].reference_tokens},
                         {"has_answer", rr[i].has_answer},
                         {"truncated", rr[i].truncated},
                         {"length_norm", c.rgr.length_norm},
                         {"advantage_rloo", adv[i]},
                         {"reference_weight", c.weight * c.rgr.lambda * R[i]}};
                    if (!rr[i].has_answer)
                        d["reason"] = "no answer block";
                    else if (rr[i].truncated)
                        d["reason"] = "truncated";
                    else if (emptyText(group[i].reference))
                        d["reason"] = "empty reference";
                    if (req[ci][i] >= 0 && R[i] > 0 && !out[i].reference_term) {
                        const auto& rq = policy_reqs[static_cast<size_t>(req[ci][i])];
                        // Scaled like the policy term: the total counts weight × R.
                        out[i].reference_term =
                            ReferenceTerm{rq.context, rq.target, c.weight * c.rgr.lambda * R[i]};
                    }
                    explainScored(i, policy_lp);
                }
                break;
            }
            case ComponentType::Rlpr: {
                for (size_t i = 0; i < G; ++i) {
                    const RewardInput& in = group[i];
                    double r_B = 0, r_A = 0;
                    int64_t n = 0;
                    const bool ref_empty = emptyText(in.reference);
                    if (req[ci][i] >= 0) {
                        const auto& lp = policy_lp[static_cast<size_t>(req[ci][i])];
                        r_B = meanTokenProb(lp);
                        n = static_cast<int64_t>(lp.size());
                    }
                    if (c.rlpr.debias && !ref_empty) r_A = m_r_A_cache.at(baselineKey(in));
                    const bool masked = ref_empty || req[ci][i] < 0;
                    // RLPR's own format pattern (format_reward), whatever the recipe's format
                    // component checks.
                    const bool fmt = text::formatValidRlpr(in.completion, tp.think, tp.answer);
                    const bool rep = c.rlpr.repetition_penalty &&
                                     repeatsWindow(in.completion, c.rlpr.repetition_window,
                                                   c.rlpr.repetition_count);
                    double v = rlprReward(r_B, r_A, fmt, rep, masked, c.rlpr);
                    auto& d = out[i].components[ci].details;
                    d = {{"r_B", r_B},    {"r_A", r_A},        {"reference_tokens", n},
                         {"format", fmt}, {"repetitive", rep}, {"masked", masked}};
                    if (ref_empty)
                        d["reason"] = "empty reference";
                    else if (masked)
                        d["reason"] = "no answer block";
                    out[i].components[ci].value = v;
                    explainScored(i, policy_lp);
                }
                break;
            }
            case ComponentType::Rubric: {
                const JudgeResults* jr = judged.count(ci) ? &judged.at(ci) : nullptr;
                for (size_t i = 0; i < G; ++i) {
                    const std::string& judged_text =
                        c.rubric.apply_to == "answer" ? parsed[i].answer : group[i].completion;
                    std::vector<double> scores, weights;
                    nlohmann::json crit = nlohmann::json::object();
                    for (size_t k = 0; k < c.rubric.criteria.size(); ++k) {
                        const RubricCriterion& cr = c.rubric.criteria[k];
                        nlohmann::json e;
                        double s = 0;
                        if (cr.kind == CriterionKind::Check) {
                            const RuleResult r = evaluateRule(cr, judged_text);
                            s = r.value;
                            e = r.toJson();
                        } else if (jr && jr->score(i, k)) {
                            const JudgeScore js = *jr->score(i, k);
                            s = js.score;
                            e = {{"value", js.score},
                                 {"expectation", js.expectation},
                                 {"mass", js.mass}};
                        } else {
                            e = {{"value", 0.0}, {"reason", "empty text"}};
                        }
                        e["kind"] = cr.kind == CriterionKind::Check ? "check" : "judge";
                        e["weight"] = cr.weight;
                        crit[cr.name] = e;
                        scores.push_back(s);
                        weights.push_back(cr.weight);
                    }
                    double v = rubricCombine(scores, weights);
                    auto& d = out[i].components[ci].details;
                    d = {{"criteria", crit}, {"weighted_mean", v}};
                    if (jr && !jr->best.empty()) {
                        d["best_prob"] = jr->best[i];
                        v += c.rubric.contrastive_weight * jr->best[i];
                    }
                    out[i].components[ci].value = v;
                }
                break;
            }
        }
    }
    for (auto& o : out) {
        o.total = 0;
        for (const auto& c : o.components) o.total += c.weight * c.value;
    }
    return out;
}

}  // namespace reflab::reward
