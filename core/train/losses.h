// Policy losses of the GRPO family on padded per-token tensors (METHODS.md, Algorithm; rgr).
// Shapes: B sequences (completions) in the micro-batch, T completion tokens (right padded);
// mask is 1 on real completion tokens and 0 on padding. Every function returns a scalar loss
// to minimise with its autograd graph, plus detached statistics for the step's metrics.
#pragma once
#include <torch/types.h>

#include <string>

namespace reflab::train {

enum class LossAggregation {
    TokenMean,  // sum over all tokens of the step / token count (default; DAPO-style)
    SeqMean,    // mean over tokens in each sequence, then mean over sequences (original GRPO)
    SeqSum,     // sum over tokens in each sequence, then mean over sequences (rgr's code)
    DrGrpo,     // sum over all tokens / (sequences × max completion length): Dr. GRPO's constant
                // normaliser (TRL loss_type "dr_grpo"), no per-sequence length bias
};
LossAggregation lossAggregationFromName(const std::string& name);  // throws TrainError
std::string lossAggregationName(LossAggregation aggregation);

struct PolicyLossOptions {
    bool clip = true;           // ppo_clip; false: on-policy policy gradient -A log pi (rgr's code)
    double clip_eps = 0.2;      // ratio clipped to [1 - clip_eps, 1 + clip_eps_high]
    double clip_eps_high = -1;  // < 0: same as clip_eps (DAPO's clip-higher when larger)
    double kl_coef = 0.0;       // beta of the k3 KL to the reference (initial) policy
    LossAggregation aggregation = LossAggregation::TokenMean;
    // Normalisers for a step split into micro-batches whose gradients are accumulated: the
    // token (token_mean) or sequence (seq_mean, seq_sum) count of the WHOLE step, so the
    // accumulated gradient equals the one of a single batch. 0: this call's own count.
    double total_tokens = 0;
    double total_sequences = 0;
    double max_completion_length = 0;  // dr_grpo's constant (generation.max_new_tokens)
};

struct PolicyLossTerms {
    torch::Tensor loss;     // scalar, differentiable w.r.t. logp
    double clip_frac = 0;   // fraction of tokens whose clipped branch is active (grad is 0 there)
    double kl = 0;          // mean k3 over tokens (0 without ref_logp)
    double ratio_mean = 0;  // mean ratio pi/pi_old over tokens
    int64_t tokens = 0;     // real tokens in this call
};

// Per token (i sequence, t token):  r = exp(logp - old_logp),
//   l = -min(r A_i, clip(r, 1 - eps, 1 + eps_high) A_i) + beta k3       (clip on)
//   l = -A_i logp + beta k3                                             (clip off)
//   k3 = exp(ref - logp) - (ref - logp) - 1   (unbiased, always >= 0; ref_logp undefined: no KL)
// aggregated as options.aggregation says.
// logp (B,T) with grad; old_logp, ref_logp (B,T) detached; advantages (B); mask (B,T).
PolicyLossTerms policyLoss(const torch::Tensor& logp, const torch::Tensor& old_logp,
                           const torch::Tensor& advantages, const torch::Tensor& mask,
                           const torch::Tensor& ref_logp, const PolicyLossOptions& options);

// rgr's reference term (METHODS.md, rgr): per token -w_i log pi(y*_j | x, z_i, y*_<j) with
// w_i = weight × lambda × sg(R_i) (a constant), aggregated as the policy term is
// (options.aggregation and its step-wide normalisers), so that with seq_sum it is VeriFree's
// -(1/B) sum_i w_i S_i, S_i the token sum. length_norm: each sequence's tokens count 1/|y*_i|
// (the mean log-prob; seq_mean averages per sequence already).
// ref_logp (B,Tr) with grad, ref_mask (B,Tr), weights (B).
torch::Tensor referenceTermLoss(const torch::Tensor& ref_logp, const torch::Tensor& ref_mask,
                                const torch::Tensor& weights, bool length_norm,
                                const PolicyLossOptions& options);

// Pads per-sequence 1-D tensors (|t_i|) into (B, T_max) with their mask. Keeps autograd.
std::pair<torch::Tensor, torch::Tensor> padSequences(const std::vector<torch::Tensor>& seqs);

}  // namespace reflab::train
