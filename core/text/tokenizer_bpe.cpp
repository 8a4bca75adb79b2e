// BPE over byte-level words (see tokenizer_bpe.h). The merge loop is HF's: always apply the
// lowest-ranked merge present, leftmost first on ties, via a heap over adjacent pairs whose
// stale entries are skipped when popped.
#include "core/text/tokenizer_bpe.h"

#include <queue>

#include "core/text/tokenizer.h"
#include "core/text/tokenizer_bytes.h"

namespace reflab::text::detail {

void BpeModel::load(const nlohmann::json& model, const std::string& path) {
    const auto vocab = model.find("vocab");
    if (vocab == model.end() || !vocab->is_object())
        throw TokenizerError(path + ": model.vocab: missing or not an object");
    m_vocab.reserve(vocab->size());
    int32_t max_id = -1;
    for (const auto& [token, id] : vocab->items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
            throw TokenizerError(path + ": model.vocab[\"" + token +
                                 "\"]: the id is not a non-negative 32-bit integer");
        const auto i = id.get<int32_t>();
        m_vocab.emplace(token, i);
        max_id = std::max(max_id, i);
    }
    m_id_to_token.assign(static_cast<size_t>(max_id + 1), std::string());
    m_has_id.assign(static_cast<size_t>(max_id + 1), false);
    for (const auto& [token, id] : m_vocab) {
        m_id_to_token[static_cast<size_t>(id)] = token;
        m_has_id[static_cast<size_t>(id)] = true;
    }
    for (int b = 0; b < 256; ++b) {
        const auto it = m_vocab.find(byteLevelChar(static_cast<uint8_t>(b)));
        if (it == m_vocab.end())
            throw TokenizerError(path + ": model.vocab: no token for byte " + std::to_string(b) +
                                 " (\"" + byteLevelChar(static_cast<uint8_t>(b)) +
                                 "\"); not a byte-level BPE vocabulary");
        m_byte_id[static_cast<size_t>(b)] = it->second;
    }

    const auto merges = model.find("merges");
    if (merges == model.end() || !merges->is_array())
        throw TokenizerError(path + ": model.merges: missing or not an array");
    size_t capacity = 1024;
    while (capacity < merges->size() * 2) capacity *= 2;  // load factor <= 1/2
    m_merge_slots.assign(capacity, MergeSlot());
    m_merge_mask = capacity - 1;
    const auto idOf = [&](const std::string& token, size_t rank) {
        const auto it = m_vocab.find(token);
        if (it == m_vocab.end())
            throw TokenizerError(path + ": model.merges[" + std::to_string(rank) + "]: token \"" +
                                 token + "\" is not in model.vocab");
        return it->second;
    };
    std::string joined;  // a + b, reused
    for (size_t rank = 0; rank < merges->size(); ++rank) {
        const auto& m = (*merges)[rank];
        std::string_view a, b;
        if (m.is_string()) {
            const std::string_view s = m.get_ref<const std::string&>();
            const size_t sp = s.find(' ');
            if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos)
                throw TokenizerError(path + ": model.merges[" + std::to_string(rank) +
                                     "]: expected two tokens separated by one space");
            a = s.substr(0, sp);
            b = s.substr(sp + 1);
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            a = m[0].get_ref<const std::string&>();
            b = m[1].get_ref<const std::string&>();
        } else {
            throw TokenizerError(path + ": model.merges[" + std::to_string(rank) +
                                 "]: expected \"a b\" or [\"a\", \"b\"]");
        }
        joined.assign(a);
        joined.append(b);
        const int32_t ia = idOf(std::string(a), rank), ib = idOf(std::string(b), rank),
                      inew = idOf(joined, rank);
        insertMerge(ia, ib, Merge{static_cast<int32_t>(rank), inew});
    }

    m_ignore_merges = model.value("ignore_merges", false);
    const auto dropout = model.find("dropout");
    if (dropout != model.end() && !dropout->is_null() && dropout->is_number() &&
        dropout->get<double>() > 0.0)
        throw TokenizerError(path + ": model.dropout: BPE dropout is not supported");
    for (const char* field : {"continuing_subword_prefix", "end_of_word_suffix"}) {
        const auto it = model.find(field);
        if (it != model.end() && it->is_string() && !it->get<std::string>().empty())
            throw TokenizerError(path + ": model." + field + ": not supported (byte-level BPE)");
    }
}

void BpeModel::insertMerge(int32_t a, int32_t b, Merge m) {
    const uint64_t key = pairKey(a, b);
    size_t i = slotOf(key);
    while (m_merge_slots[i].key != kEmptyKey && m_merge_slots[i].key != key)
        i = (i + 1) & m_merge_mask;
    m_merge_slots[i] = MergeSlot{key, m};  // a repeated pair keeps the later rank, as in HF
}

std::optional<int32_t> BpeModel::tokenId(std::string_view token) const {
    const auto it = m_vocab.find(std::string(token));
    if (it == m_vocab.end()) return std::nullopt;
    return it->second;
}

const std::string* BpeModel::tokenText(int32_t id) const {
    if (id < 0 || id >= static_cast<int32_t>(m_id_to_token.size()) ||
        !m_has_id[static_cast<size_t>(id)])
        return nullptr;
    return &m_id_to_token[static_cast<size_t>(id)];
}

void BpeModel::encodeWord(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (word.size() == 1) {
        out.push_back(m_byte_id[static_cast<uint8_t>(word[0])]);
        return;
    }
    const bool cacheable = word.size() <= kCacheWordBytes;
    if (cacheable) {
        std::shared_lock lock(m_cache_mutex);
        const auto it = m_cache.find(std::string(word));
        if (it != m_cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> ids;
    if (m_ignore_merges) {  // a word that is a whole vocab token is taken as it is
        const auto it = m_vocab.find(toByteLevel(word));
        if (it != m_vocab.end()) ids.push_back(it->second);
    }
    if (ids.empty()) mergeWord(word, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
        std::unique_lock lock(m_cache_mutex);
        if (m_cache.size() >= kCacheEntries) m_cache.clear();
        m_cache.emplace(std::string(word), std::move(ids));
    }
}

void BpeModel::mergeWord(std::string_view word, std::vector<int32_t>& out) const {
    const int n = static_cast<int>(word.size());
    struct Symbol {
        int32_t id;
        int prev, next;  // -1 at the ends
        bool alive;
    };
    std::vector<Symbol> sym(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        sym[static_cast<size_t>(i)] = {
            m_byte_id[static_cast<uint8_t>(word[static_cast<size_t>(i)])], i - 1,
            i + 1 < n ? i + 1 : -1, true};
    struct Candidate {
        int32_t rank;
        int pos;  // the left symbol
        int32_t new_id;
        bool operator>(const Candidate& o) const {
            return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    const auto push = [&](int left) {
        if (left < 0) return;
        const int right = sym[static_cast<size_t>(left)].next;
        if (right < 0) return;
        if (const Merge* m =
                findMerge(sym[static_cast<size_t>(left)].id, sym[static_cast<size_t>(right)].id))
            heap.push({m->rank, left, m->new_id});
    };
    for (int i = 0; i + 1 < n; ++i) push(i);
    while (!heap.empty()) {
        const Candidate top = heap.top();
        heap.pop();
        Symbol& left = sym[static_cast<size_t>(top.pos)];
        if (!left.alive || left.next < 0) continue;
        Symbol& right = sym[static_cast<size_t>(left.next)];
        const Merge* m = findMerge(left.id, right.id);
        if (!m || m->new_id != top.new_id) continue;  // stale
        left.id = top.new_id;
        right.alive = false;
        left.next = right.next;
        if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = top.pos;
        push(left.prev);
        push(top.pos);
    }
    for (int i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next)
        out.push_back(sym[static_cast<size_t>(i)].id);
}

}  // namespace reflab::text::detail
