// Reproducible prompt order for training: epochs of seeded permutations of [0, n). The whole
// state is (n, seed, position), so a checkpoint stores one integer and a resumed run draws the
// same prompts as an uninterrupted one. Independent of the standard library's distributions
// (their output differs between implementations): SplitMix64 + Fisher-Yates written out here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace reflab::data {

class PromptSampler {
public:
    PromptSampler(size_t n, uint64_t seed);  // n > 0

    // The next k indices; an epoch boundary starts the next permutation (a step may hold the
    // last prompts of one epoch and the first of the next).
    std::vector<size_t> next(size_t k);

    int64_t position() const { return m_position; }  // indices drawn so far
    void setPosition(int64_t position);              // jumps there (resume)
    // The permutation of epoch e (exposed for tests).
    std::vector<size_t> epochOrder(int64_t epoch) const;

private:
    size_t m_n;
    uint64_t m_seed;
    int64_t m_position = 0;
    int64_t m_epoch = -1;  // epoch whose order is cached
    std::vector<size_t> m_order;
};

}  // namespace reflab::data
