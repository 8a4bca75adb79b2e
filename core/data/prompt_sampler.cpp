// Seeded, resumable epoch permutations.
#include "core/data/prompt_sampler.h"

#include "core/data/data_error.h"

namespace reflab::data {

namespace {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

PromptSampler::PromptSampler(size_t n, uint64_t seed) : m_n(n), m_seed(seed) {
    if (n == 0) throw DataError("prompt sampler: the dataset is empty");
}

std::vector<size_t> PromptSampler::epochOrder(int64_t epoch) const {
    std::vector<size_t> order(m_n);
    for (size_t i = 0; i < m_n; ++i) order[i] = i;
    uint64_t state = m_seed * 0x100000001B3ull + static_cast<uint64_t>(epoch) + 1;
    for (size_t i = m_n; i > 1; --i) {  // Fisher-Yates; modulo bias is < n / 2^64
        const size_t j = static_cast<size_t>(splitmix64(state) % i);
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

std::vector<size_t> PromptSampler::next(size_t k) {
    std::vector<size_t> out;
    out.reserve(k);
    for (size_t i = 0; i < k; ++i) {
        const int64_t epoch = m_position / static_cast<int64_t>(m_n);
        if (epoch != m_epoch) {
            m_order = epochOrder(epoch);
            m_epoch = epoch;
        }
        out.push_back(m_order[static_cast<size_t>(m_position % static_cast<int64_t>(m_n))]);
        ++m_position;
    }
    return out;
}

void PromptSampler::setPosition(int64_t position) {
    if (position < 0)
        throw DataError("prompt sampler: negative position " + std::to_string(position));
    m_position = position;
}

}  // namespace reflab::data
