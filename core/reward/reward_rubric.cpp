// rubric component formulas and prompts. See reward_rubric.h.
#include "core/reward/reward_rubric.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace reflab::reward {
namespace {

// Softmax over a subset of the vocabulary, given its log-probs; also returns the subset's mass.
std::vector<double> renormalise(const std::vector<double>& logprobs, double* mass) {
    double m = -std::numeric_limits<double>::infinity();
    for (double lp : logprobs) m = std::max(m, lp);
    std::vector<double> p(logprobs.size(), 0.0);
    if (logprobs.empty() || !std::isfinite(m)) {
        if (mass) *mass = 0;
        return p;
    }
    double z = 0;
    for (size_t i = 0; i < p.size(); ++i) z += (p[i] = std::exp(logprobs[i] - m));
    for (double& x : p) x /= z;
    if (mass) *mass = z * std::exp(m);
    return p;
}

}  // namespace

JudgeScore judgeExpectedScore(const std::vector<double>& logprobs) {
    JudgeScore s;
    if (logprobs.size() < 2) return s;
    const auto p = renormalise(logprobs, &s.mass);
    for (size_t k = 0; k < p.size(); ++k) s.expectation += static_cast<double>(k) * p[k];
    s.score = s.expectation / static_cast<double>(logprobs.size() - 1);
    return s;
}

std::vector<double> bestOfProbabilities(const std::vector<double>& label_logprobs) {
    return renormalise(label_logprobs, nullptr);
}

double rubricCombine(const std::vector<double>& scores, const std::vector<double>& weights) {
    double num = 0, den = 0;
    for (size_t i = 0; i < scores.size() && i < weights.size(); ++i) {
        num += weights[i] * scores[i];
        den += weights[i];
    }
    return den > 0 ? num / den : 0.0;
}

std::string fillPlaceholders(const std::string& templ,
                             const std::map<std::string, std::string>& values) {
    std::string out;
    out.reserve(templ.size());
    size_t i = 0;
    while (i < templ.size()) {
        if (templ[i] == '{') {
            const size_t close = templ.find('}', i + 1);
            if (close != std::string::npos) {
                auto it = values.find(templ.substr(i + 1, close - i - 1));
                if (it != values.end()) {
                    out += it->second;
                    i = close + 1;
                    continue;
                }
            }
        }
        out.push_back(templ[i++]);
    }
    return out;
}

std::string rubricText(const RubricOptions& o) {
    std::ostringstream os;
    for (const auto& c : o.criteria) {
        os << "- " << c.name << " (weight " << c.weight << ")";
        if (!c.description.empty()) os << ": " << c.description;
        os << "\n";
    }
    return os.str();
}

std::string judgePrompt(const RubricOptions& o, const RubricCriterion& c, const std::string& task,
                        const std::string& judged_text) {
    return fillPlaceholders(o.judge_prompt, {{"criterion", c.name},
                                             {"description", c.description},
                                             {"rubric", rubricText(o)},
                                             {"task", task},
                                             {"completion", judged_text},
                                             {"max_score", std::to_string(o.max_score)}});
}

std::string contrastivePrompt(const RubricOptions& o, const std::string& task,
                              const std::vector<std::string>& candidates) {
    std::string list;
    for (size_t i = 0; i < candidates.size(); ++i)
        list += "Candidate " + std::to_string(i + 1) + ":\n" + candidates[i] + "\n\n";
    return fillPlaceholders(o.contrastive_prompt, {{"rubric", rubricText(o)},
                                                   {"task", task},
                                                   {"candidates", list},
                                                   {"n", std::to_string(candidates.size())}});
}

}  // namespace reflab::reward
