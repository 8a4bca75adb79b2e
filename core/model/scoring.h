// Teacher-forced log-probabilities of target spans: many (context, target) pairs in ONE
// batched forward, with the lm_head run only on the positions that predict a target token.
// The hot path of every reward (nover, rgr, rlpr) and of the policy-gradient loss.
#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "core/model/language_model.h"

namespace reflab::model {

struct ScoreRequest {
    std::vector<int32_t> context;  // at least one token
    std::vector<int32_t> target;   // may be empty (its result is then empty)
};
struct ScoreOptions {
    bool with_grad = false;  // keep the autograd graph (policy loss); else inference mode
    bool entropy = false;    // also the entropy of the full next-token distribution
    // Log-probs (and entropy) of softmax(logits / temperature): the distribution that sampled
    // at that temperature, as TRL scores it. (h W^T) / T = (h / T) W^T: the hidden rows are
    // scaled, the lm_head path is unchanged. 1 (or <= 0): the raw logits.
    double temperature = 1.0;
};
struct ScoreResult {
    std::vector<torch::Tensor>
        logprobs;  // per request: (|target|) float32, log p(target_j | context, target_<j)
    std::vector<torch::Tensor> entropy;  // per request: (|target|) when options.entropy
};

// All requests in one right-padded batch. Results are on the model's device.
ScoreResult scoreTargets(const LanguageModel& model, const std::vector<ScoreRequest>& requests,
                         const ScoreOptions& options = {});

}  // namespace reflab::model
