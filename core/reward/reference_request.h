// The scoring request of a reference-likelihood text (rgr's R, rlpr's r_B and r_A, the
// evaluator's ref_nll): context + target + suffix tokenized as ONE text, as RLPR's
// construct_new_batch does, and the target being the tokens that overlap the target's bytes
// (RLPR's locate_substring_tokens). A reference tokenized on its own would be scored in tokens
// the model never writes there: " Paris" glued to its leading space is one token in context.
#pragma once
#include "core/model/scoring.h"
#include "core/reward/reward_reference_texts.h"

namespace reflab::reward {

// Token boundaries come from the decoded length of each token prefix. A tokenizer whose decode
// does not give the bytes back (no token ends at the context's end) falls back to context and
// target tokenized apart.
model::ScoreRequest referenceRequest(const model::LanguageModel& model, const ReferenceTexts& t);

}  // namespace reflab::reward
