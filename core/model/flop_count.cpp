// FLOP counts of the benchmarks (see flop_count.h).
#include "core/model/flop_count.h"

namespace reflab::model {

int64_t lmHeadParameters(const ModelConfig& c) {
    return c.vocab_size * c.hidden_size;
}

int64_t bodyParameters(const ModelConfig& c) {
    // parameterCount() holds the embedding once, and the lm_head again when it is untied.
    const int64_t matrices = c.tie_word_embeddings ? 1 : 2;
    return c.parameterCount() - matrices * lmHeadParameters(c);
}

double forwardFlops(const ModelConfig& c, double tokens, double lm_head_positions) {
    return 2.0 * (static_cast<double>(bodyParameters(c)) * tokens +
                  static_cast<double>(lmHeadParameters(c)) * lm_head_positions);
}

double trainFlops(const ModelConfig& c, double tokens, double lm_head_positions) {
    return 3.0 * forwardFlops(c, tokens, lm_head_positions);
}

}  // namespace reflab::model
