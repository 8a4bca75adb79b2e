// mu epochs of micro-batched policy-gradient updates.
#include "core/train/policy_update.h"

#include <chrono>

#include "core/model/scoring.h"
#include "core/train/distributed.h"
#include "core/train/gradient_reducer.h"
#include "core/train/train_error.h"

namespace reflab::train {

namespace {
using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}
}  // namespace

bool updateComputes(const UpdateSample& s, bool kl_on) {
    const bool any_policy = s.policy_tokens > 0 && (s.advantage != 0.0 || kl_on);
    return any_policy || (s.reference_term && s.reference_term->weight != 0.0);
}

UpdateStats policyUpdate(const model::LanguageModel& policy, const model::LanguageModel* reference,
                         PolicyOptimizer& optimizer, const std::vector<UpdateSample>& samples,
                         UpdateOptions options, double lr) {
    UpdateStats stats;
    double total_tokens = 0;
    std::vector<size_t> active;
    const bool kl_on = reference != nullptr;
    std::vector<bool> from_forward(samples.size(), false);
    for (size_t i = 0; i < samples.size(); ++i) {
        const auto& s = samples[i];
        const bool computes = updateComputes(s, kl_on);
        from_forward[i] = options.old_from_forward && s.old_logprobs.empty() && !s.tokens.empty();
        if (from_forward[i] &&
            (options.mu != 1 || !computes || s.policy_tokens != int64_t(s.tokens.size())))
            throw TrainError("policy update: completion " + std::to_string(i) +
                             " has no old log-probs and cannot take them from the forward (mu " +
                             std::to_string(options.mu) + ")");
        if ((!from_forward[i] && s.old_logprobs.size() != s.tokens.size()) ||
            s.policy_tokens > int64_t(s.tokens.size()))
            throw TrainError("policy update: completion " + std::to_string(i) + " has " +
                             std::to_string(s.tokens.size()) + " tokens but " +
                             std::to_string(s.old_logprobs.size()) + " old log-probs");
        total_tokens += static_cast<double>(s.policy_tokens);
        if (computes) active.push_back(i);
    }
    if (options.old_from_forward) {
        stats.forward_logprobs.resize(samples.size());
        stats.forward_entropies.resize(samples.size());
    }
    double total_sequences = static_cast<double>(samples.size());
    double total_active = static_cast<double>(active.size());
    Communicator* comm = options.communicator;
    if (comm) {
        // The step's counts over every rank: the normalisers of the whole batch.
        auto counts = torch::tensor({total_tokens, total_sequences, total_active}, torch::kFloat64);
        comm->allReduce(counts, ReduceOp::Sum);
        total_tokens = counts[0].item<double>();
        total_sequences = counts[1].item<double>();
        total_active = counts[2].item<double>();
    }
    stats.tokens = static_cast<int64_t>(total_tokens);
    stats.computed = static_cast<int64_t>(total_active);
    options.loss.total_tokens = std::max(total_tokens, 1.0);
    options.loss.total_sequences = std::max(total_sequences, 1.0);
    if (total_active == 0) return stats;  // nothing to learn from: no update (not even decay)

    const int64_t mb = std::max<int64_t>(1, options.micro_batch);
    // Data-parallel: the gradient sum over ranks overlaps each epoch's last backward.
    std::optional<GradientReducer> reducer;
    if (comm) reducer.emplace(*comm, policy.parameters());
    double clip_sum = 0, kl_sum = 0, ent_sum = 0, ratio_sum = 0, ent_tokens = 0, first_loss = 0;
    for (int64_t epoch = 0; epoch < options.mu; ++epoch) {
        optimizer.zeroGrad();
        double epoch_loss = 0;
        for (size_t begin = 0; begin < active.size(); begin += mb) {
            const size_t end = std::min(active.size(), begin + static_cast<size_t>(mb));
            // One batched forward: the policy requests, then the reference-term requests.
            std::vector<model::ScoreRequest> reqs;
            std::vector<size_t> ref_rows;  // sample index of each reference-term request
            for (size_t k = begin; k < end; ++k) {
                const auto& s = samples[active[k]];
                reqs.push_back(
                    {s.context,
                     std::vector<int32_t>(s.tokens.begin(), s.tokens.begin() + s.policy_tokens)});
            }
            const size_t n_policy = reqs.size();
            for (size_t k = begin; k < end; ++k) {
                const auto& s = samples[active[k]];
                if (s.reference_term && s.reference_term->weight != 0.0) {
                    reqs.push_back({s.reference_term->context, s.reference_term->target});
                    ref_rows.push_back(active[k]);
                }
            }
            for (size_t q = 0; q < reqs.size(); ++q) {
                const auto t = static_cast<int64_t>(reqs[q].target.size());
                stats.forward_tokens += static_cast<int64_t>(reqs[q].context.size()) + t;
                stats.forward_targets += t;
                if (kl_on && q < n_policy) {
                    stats.reference_tokens += static_cast<int64_t>(reqs[q].context.size()) + t;
                    stats.reference_targets += t;
                }
            }
            const auto t_forward = Clock::now();
            model::ScoreOptions so;
            so.with_grad = true;
            so.entropy = epoch == 0;
            so.temperature = options.temperature;
            auto scored = model::scoreTargets(policy, reqs, so);

            std::vector<torch::Tensor> lp(scored.logprobs.begin(),
                                          scored.logprobs.begin() + n_policy);
            auto [logp, mask] = padSequences(lp);  // (B,T)
            const int64_t T = logp.size(1);
            auto old = torch::zeros({static_cast<int64_t>(n_policy), T}, torch::kFloat32);
            auto adv = torch::zeros({static_cast<int64_t>(n_policy)}, torch::kFloat32);
            for (size_t k = begin; k < end; ++k) {
                const auto& s = samples[active[k]];
                const int64_t row = static_cast<int64_t>(k - begin);
                if (s.policy_tokens > 0 && !from_forward[active[k]])
                    old[row]
                        .slice(0, 0, s.policy_tokens)
                        .copy_(torch::from_blob(const_cast<float*>(s.old_logprobs.data()),
                                                {s.policy_tokens}, torch::kFloat32));
                adv[row] = s.advantage;
            }
            old = old.to(logp.device());
            for (size_t k = begin; k < end; ++k) {
                if (!from_forward[active[k]]) continue;
                const auto row = static_cast<int64_t>(k - begin);
                const int64_t n = samples[active[k]].policy_tokens;
                const torch::Tensor lp_row = logp.detach()[row].slice(0, 0, n);
                old[row].slice(0, 0, n).copy_(lp_row);
                const torch::Tensor host = lp_row.to(torch::kCPU, torch::kFloat32).contiguous();
                stats.forward_logprobs[active[k]].assign(host.data_ptr<float>(),
                                                         host.data_ptr<float>() + n);
                if (row < static_cast<int64_t>(scored.entropy.size())) {
                    const torch::Tensor ent = scored.entropy[static_cast<size_t>(row)]
                                                  .detach()
                                                  .slice(0, 0, n)
                                                  .to(torch::kCPU, torch::kFloat32)
                                                  .contiguous();
                    stats.forward_entropies[active[k]].assign(ent.data_ptr<float>(),
                                                              ent.data_ptr<float>() + n);
                }
            }
            adv = adv.to(logp.device());
            mask = mask.to(logp.device());
            torch::Tensor ref_logp;
            if (kl_on) {
                const auto t_reference = Clock::now();
                model::ScoreOptions ro;
                ro.temperature = options.temperature;
                auto ref = model::scoreTargets(
                    *reference,
                    std::vector<model::ScoreRequest>(reqs.begin(), reqs.begin() + n_policy), ro);
                ref_logp = padSequences(ref.logprobs).first.to(logp.device());
                stats.reference_s += secondsSince(t_reference);
            }
            auto terms = policyLoss(logp, old, adv, mask, ref_logp, options.loss);
            torch::Tensor loss = terms.loss;
            if (!ref_rows.empty()) {
                std::vector<torch::Tensor> rlp(scored.logprobs.begin() + n_policy,
                                               scored.logprobs.end());
                auto [rl, rmask] = padSequences(rlp);
                std::vector<float> w;
                for (size_t i : ref_rows)
                    w.push_back(static_cast<float>(samples[i].reference_term->weight));
                const auto weights = torch::tensor(w).to(rl.device());
                // weight = component weight × lambda × R, aggregated as the policy term.
                loss = loss + referenceTermLoss(rl, rmask.to(rl.device()), weights,
                                                options.reference_length_norm, options.loss);
            }
            stats.forward_s += secondsSince(t_forward);
            const auto t_backward = Clock::now();
            if (reducer && end == active.size()) reducer->arm();  // completes the gradients
            loss.backward();
            stats.backward_s += secondsSince(t_backward);
            epoch_loss += loss.item<double>();
            clip_sum += terms.clip_frac * terms.tokens;
            if (epoch == 0) {
                kl_sum += terms.kl * terms.tokens;
                ratio_sum += terms.ratio_mean * terms.tokens;
                for (size_t r = 0; r < n_policy && r < scored.entropy.size(); ++r) {
                    ent_sum += scored.entropy[r].sum().item<double>();
                    ent_tokens += static_cast<double>(scored.entropy[r].numel());
                }
            }
        }
        if (epoch == 0) first_loss = epoch_loss;
        const auto t_optimizer = Clock::now();
        // Each rank's loss is its share of the whole batch's (global normalisers): the sum of
        // the ranks' gradients is the whole batch's gradient.
        if (reducer) reducer->finish();
        const double rate = options.schedule ? options.schedule->at(optimizer.stepCount()) : lr;
        const auto info = optimizer.step(rate);
        stats.lr = rate;
        optimizer.zeroGrad();
        stats.optimizer_s += secondsSince(t_optimizer);
        stats.grad_norm = info.grad_norm;
        ++stats.optimizer_steps;
    }
    double computed_tokens = 0;
    for (size_t i : active) computed_tokens += static_cast<double>(samples[i].policy_tokens);
    if (comm) {
        auto sums = torch::tensor(
            {first_loss, clip_sum, kl_sum, ratio_sum, ent_sum, ent_tokens, computed_tokens},
            torch::kFloat64);
        comm->allReduce(sums, ReduceOp::Sum);
        first_loss = sums[0].item<double>();
        clip_sum = sums[1].item<double>();
        kl_sum = sums[2].item<double>();
        ratio_sum = sums[3].item<double>();
        ent_sum = sums[4].item<double>();
        ent_tokens = sums[5].item<double>();
        computed_tokens = sums[6].item<double>();
    }
    stats.loss = first_loss;
    computed_tokens = std::max(computed_tokens, 1.0);
    stats.clip_frac = clip_sum / (computed_tokens * static_cast<double>(options.mu));
    stats.kl = kl_sum / computed_tokens;
    stats.ratio_mean = ratio_sum / computed_tokens;
    stats.entropy = ent_tokens > 0 ? ent_sum / ent_tokens : 0.0;
    return stats;
}

}  // namespace reflab::train
