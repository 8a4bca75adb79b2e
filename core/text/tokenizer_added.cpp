// Added-token matching (see tokenizer_added.h); mirrors HF AddedVocabulary::find_matches.
#include "core/text/tokenizer_added.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstring>

#include "core/text/tokenizer_bytes.h"
#include "core/text/tokenizer_normalizer.h"

namespace reflab::text::detail {
namespace {

// The code point that ends just before byte `end` (text is valid UTF-8, end > 0).
int32_t lastCodePoint(std::string_view text, size_t end, size_t& begin) {
    begin = end - 1;
    while (begin > 0 && (static_cast<uint8_t>(text[begin]) & 0xC0) == 0x80) --begin;
    utf8proc_int32_t cp = -1;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + begin),
                     static_cast<utf8proc_ssize_t>(end - begin), &cp);
    return cp;
}

int32_t codePointAt(std::string_view text, size_t pos, size_t& len) {
    utf8proc_int32_t cp = -1;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + pos),
                                    static_cast<utf8proc_ssize_t>(text.size() - pos), &cp);
    len = n > 0 ? static_cast<size_t>(n) : 1;
    return cp;
}

}  // namespace

void AddedVocab::add(AddedToken token) {
    m_max_id = std::max(m_max_id, token.id);
    const auto existing = m_by_id.find(token.id);
    if (existing != m_by_id.end()) {  // a later entry for the same id replaces the earlier
        m_by_content.erase(m_tokens[existing->second].content);
        m_tokens[existing->second] = token;
        m_by_content[token.content] = existing->second;
        return;
    }
    m_by_id[token.id] = m_tokens.size();
    m_by_content[token.content] = m_tokens.size();
    m_tokens.push_back(std::move(token));
}

void AddedVocab::finalize(const Normalizer& normalizer) {
    for (Matcher* m : {&m_raw, &m_normalized}) {
        *m = Matcher();
        m->patterns.assign(m_tokens.size(), std::string());
    }
    for (size_t i = 0; i < m_tokens.size(); ++i) {
        const AddedToken& t = m_tokens[i];
        if (t.content.empty()) continue;
        Matcher& m = t.normalized ? m_normalized : m_raw;
        m.patterns[i] = t.normalized ? normalizer.apply(t.content) : t.content;
        if (m.patterns[i].empty()) continue;
        m.by_first_byte[static_cast<uint8_t>(m.patterns[i][0])].push_back(i);
        m.empty = false;
    }
    for (Matcher* m : {&m_raw, &m_normalized})
        for (auto& bucket : m->by_first_byte)
            std::stable_sort(bucket.begin(), bucket.end(), [m](size_t a, size_t b) {
                return m->patterns[a].size() > m->patterns[b].size();
            });
}

void AddedVocab::findAndSplit(std::string_view text, const Matcher& matcher, bool normalize_rest,
                              const Normalizer& normalizer, std::vector<Segment>& out) const {
    const auto emitText = [&](std::string_view piece) {
        if (piece.empty()) return;
        if (normalize_rest) {
            const std::string normalized = normalizer.apply(piece);
            findAndSplit(normalized, m_normalized, false, normalizer, out);
        } else {
            out.push_back(Segment{std::string(piece), -1});
        }
    };
    if (matcher.empty) {
        emitText(text);
        return;
    }
    size_t start_offset = 0;  // end of the last emitted piece
    size_t search = 0;        // where the next leftmost-longest search starts
    while (search < text.size()) {
        // Leftmost-longest match at or after `search`.
        size_t mat_start = std::string_view::npos, mat_index = 0;
        for (size_t i = search; i < text.size() && mat_start == std::string_view::npos; ++i) {
            for (const size_t k : matcher.by_first_byte[static_cast<uint8_t>(text[i])]) {
                const std::string& p = matcher.patterns[k];
                if (p.size() <= text.size() - i &&
                    std::memcmp(text.data() + i, p.data(), p.size()) == 0) {
                    mat_start = i;
                    mat_index = k;
                    break;
                }
            }
        }
        if (mat_start == std::string_view::npos) break;
        const AddedToken& token = m_tokens[mat_index];
        size_t start = mat_start, stop = mat_start + matcher.patterns[mat_index].size();
        search = stop;
        if (start < start_offset) continue;  // inside whitespace an rstrip already took
        if (token.single_word) {
            size_t b, len;
            const bool start_space = start == 0 || !isAlphanumeric(lastCodePoint(text, start, b));
            const bool stop_space =
                stop == text.size() || !isAlphanumeric(codePointAt(text, stop, len));
            if (!start_space || !stop_space) continue;
        }
        if (token.lstrip) {
            size_t s = start;
            while (s > 0) {
                size_t b;
                if (!isWhiteSpace(lastCodePoint(text, s, b))) break;
                s = b;
            }
            start = std::max(s, start_offset);
        }
        if (token.rstrip) {
            while (stop < text.size()) {
                size_t len;
                if (!isWhiteSpace(codePointAt(text, stop, len))) break;
                stop += len;
            }
        }
        emitText(text.substr(start_offset, start - start_offset));
        out.push_back(Segment{std::string(), token.id});
        start_offset = stop;
        search = std::max(search, stop);
    }
    emitText(text.substr(start_offset));
}

void AddedVocab::split(std::string_view text, const Normalizer& normalizer,
                       std::vector<Segment>& out) const {
    findAndSplit(text, m_raw, true, normalizer, out);
}

const AddedToken* AddedVocab::byId(int32_t id) const {
    const auto it = m_by_id.find(id);
    return it == m_by_id.end() ? nullptr : &m_tokens[it->second];
}

const AddedToken* AddedVocab::byContent(std::string_view content) const {
    const auto it = m_by_content.find(std::string(content));
    return it == m_by_content.end() ? nullptr : &m_tokens[it->second];
}

}  // namespace reflab::text::detail
