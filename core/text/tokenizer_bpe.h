// The BPE "model" of a tokenizer.json over byte-level text: vocab, merges by rank (merges as
// "a b" strings or ["a", "b"] pairs), ignore_merges (Llama 3), and a per-word cache.
#pragma once
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reflab::text::detail {

class BpeModel {
public:
    // `model` is the file's "model" object; errors name `path` and the field.
    void load(const nlohmann::json& model, const std::string& path);

    // Appends the ids of one pre-tokenized word given as raw bytes (mapped to byte-level
    // characters here).
    void encodeWord(std::string_view word, std::vector<int32_t>& out) const;

    std::optional<int32_t> tokenId(std::string_view token) const;
    const std::string* tokenText(int32_t id) const;  // null when the id has no vocab entry
    int32_t maxId() const { return static_cast<int32_t>(m_id_to_token.size()) - 1; }

private:
    struct Merge {
        int32_t rank;
        int32_t new_id;
    };
    static uint64_t pairKey(int32_t a, int32_t b) {
        return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
    }
    void mergeWord(std::string_view word, std::vector<int32_t>& out) const;

    std::unordered_map<std::string, int32_t> m_vocab;  // byte-level token text -> id
    std::vector<std::string> m_id_to_token;
    std::vector<bool> m_has_id;
    // (left id, right id) -> rank, merged id: open addressing with linear probing, because
    // this lookup is the inner loop of every merge (std::unordered_map was ~1/3 of encode).
    struct MergeSlot {
        uint64_t key = kEmptyKey;
        Merge merge{};
    };
    static constexpr uint64_t kEmptyKey = ~uint64_t{0};
    const Merge* findMerge(int32_t a, int32_t b) const {
        const uint64_t key = pairKey(a, b);
        for (size_t i = slotOf(key);; i = (i + 1) & m_merge_mask) {
            const MergeSlot& s = m_merge_slots[i];
            if (s.key == key) return &s.merge;
            if (s.key == kEmptyKey) return nullptr;
        }
    }
    size_t slotOf(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & m_merge_mask;
    }
    void insertMerge(int32_t a, int32_t b, Merge m);
    std::vector<MergeSlot> m_merge_slots;
    size_t m_merge_mask = 0;
    std::array<int32_t, 256> m_byte_id{};  // raw byte -> id of its byte-level char
    bool m_ignore_merges = false;

    // Per-word cache (words up to kCacheWordBytes); cleared when it reaches kCacheEntries.
    static constexpr size_t kCacheWordBytes = 128;
    static constexpr size_t kCacheEntries = 200000;
    mutable std::shared_mutex m_cache_mutex;
    mutable std::unordered_map<std::string, std::vector<int32_t>> m_cache;
};

}  // namespace reflab::text::detail
