// Token, log-prob and vocabulary BLOB codecs; see store_codec.h.
#include "core/store/store_codec.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/store/store_error.h"

namespace reflab::store {

namespace {

void putVarint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

bool getVarint(std::string_view in, size_t& pos, uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= in.size()) return false;
        const auto b = static_cast<uint8_t>(in[pos++]);
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

// getVarint with the one- to three-byte values (ids under 2^21: every vocabulary's) read
// inline; the rest, and any malformed end, through getVarint.
inline bool getVarintFast(std::string_view in, size_t& pos, uint64_t& v) {
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    if (pos < in.size() && !(p[pos] & 0x80)) {
        v = p[pos++];
        return true;
    }
    if (pos + 1 < in.size() && !(p[pos + 1] & 0x80)) {
        v = (p[pos] & 0x7fu) | (static_cast<uint64_t>(p[pos + 1]) << 7);
        pos += 2;
        return true;
    }
    if (pos + 2 < in.size() && !(p[pos + 2] & 0x80)) {
        v = (p[pos] & 0x7fu) | (static_cast<uint64_t>(p[pos + 1] & 0x7fu) << 7) |
            (static_cast<uint64_t>(p[pos + 2]) << 14);
        pos += 3;
        return true;
    }
    return getVarint(in, pos, v);
}

}  // namespace

// IEEE binary16 through the compiler's own _Float16 (round to nearest even, as c10::Half):
// the store compiles without LibTorch, and the log-prob BLOBs stay byte-identical.
uint16_t floatToHalf(float value) {
    const _Float16 h = static_cast<_Float16>(value);
    uint16_t bits;
    std::memcpy(&bits, &h, sizeof bits);
    return bits;
}

float halfToFloat(uint16_t half) {
    _Float16 h;
    std::memcpy(&h, &half, sizeof h);
    return static_cast<float>(h);
}

uint64_t fnv1a64(std::string_view bytes, uint64_t seed) {
    uint64_t h = seed;
    for (const char c : bytes) {
        h ^= static_cast<uint8_t>(c);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string encodeTokens(const std::vector<int32_t>& ids, const std::vector<float>& logprobs) {
    if (!logprobs.empty() && logprobs.size() != ids.size())
        throw StoreError("rollout tokens: " + std::to_string(ids.size()) + " token ids but " +
                         std::to_string(logprobs.size()) + " log-probs");
    std::string out;
    out.reserve(2 + ids.size() * 4);
    out.push_back(static_cast<char>(logprobs.empty() ? 2 : 1));  // 2: ids only
    putVarint(out, ids.size());
    for (const int32_t id : ids) putVarint(out, static_cast<uint32_t>(id));
    for (const float lp : logprobs) {
        const uint16_t h = floatToHalf(lp);
        out.push_back(static_cast<char>(h & 0xff));
        out.push_back(static_cast<char>(h >> 8));
    }
    return out;
}

namespace {

// The ids of a tokens blob; returns the position of its log-probs (0 for an empty blob).
size_t readIds(std::string_view blob, std::vector<int32_t>& ids, const std::string& what) {
    ids.clear();
    if (blob.empty()) return 0;
    const auto bad = [&what] { return StoreError(what + ": malformed token blob"); };
    const auto format = static_cast<uint8_t>(blob[0]);
    if (format != 1 && format != 2) throw bad();
    size_t pos = 1;
    uint64_t n = 0;
    if (!getVarint(blob, pos, n) || n > blob.size()) throw bad();
    ids.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t v = 0;
        if (!getVarintFast(blob, pos, v) || v > 0xffffffffULL) throw bad();
        ids[i] = static_cast<int32_t>(static_cast<uint32_t>(v));
    }
    return pos;
}

}  // namespace

void decodeTokenIds(std::string_view blob, std::vector<int32_t>& ids, const std::string& what) {
    readIds(blob, ids, what);
}

void decodeTokens(std::string_view blob, std::vector<int32_t>& ids, std::vector<float>& logprobs,
                  const std::string& what) {
    logprobs.clear();
    const size_t pos = readIds(blob, ids, what);
    if (blob.empty() || static_cast<uint8_t>(blob[0]) == 2) return;  // 2: ids only
    const size_t n = ids.size();
    if (blob.size() - pos != 2 * n) throw StoreError(what + ": malformed token blob");
    logprobs.resize(n);
    for (size_t i = 0; i < n; ++i) {
        const auto lo = static_cast<uint8_t>(blob[pos + 2 * i]);
        const auto hi = static_cast<uint8_t>(blob[pos + 2 * i + 1]);
        logprobs[i] = halfToFloat(static_cast<uint16_t>(lo | (hi << 8)));
    }
}

std::string encodeHalves(const std::vector<float>& values) {
    std::string out;
    out.reserve(3 + values.size() * 2);
    putVarint(out, values.size());
    for (const float v : values) {
        const uint16_t h = floatToHalf(v);
        out.push_back(static_cast<char>(h & 0xff));
        out.push_back(static_cast<char>(h >> 8));
    }
    return out;
}

std::vector<float> decodeHalves(std::string_view blob, const std::string& what) {
    size_t pos = 0;
    uint64_t n = 0;
    if (!getVarint(blob, pos, n) || n > blob.size() || blob.size() - pos != 2 * n)
        throw StoreError(what + ": malformed float16 blob");
    std::vector<float> out(n);
    for (uint64_t i = 0; i < n; ++i) {
        const auto lo = static_cast<uint8_t>(blob[pos + 2 * i]);
        const auto hi = static_cast<uint8_t>(blob[pos + 2 * i + 1]);
        out[i] = halfToFloat(static_cast<uint16_t>(lo | (hi << 8)));
    }
    return out;
}

std::string encodeVocabulary(const std::vector<std::string>& tokens) {
    std::string out;
    putVarint(out, tokens.size());
    for (const std::string& t : tokens) {
        putVarint(out, t.size());
        out += t;
    }
    return out;
}

std::vector<std::string> decodeVocabulary(std::string_view blob, const std::string& what) {
    size_t pos = 0;
    uint64_t n = 0;
    if (!getVarint(blob, pos, n) || n > blob.size())
        throw StoreError(what + ": malformed vocabulary");
    std::vector<std::string> out(n);
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t len = 0;
        if (!getVarint(blob, pos, len) || len > blob.size() - pos)
            throw StoreError(what + ": malformed vocabulary");
        out[i].assign(blob.substr(pos, len));
        pos += len;
    }
    return out;
}

bool detokenize(const std::vector<std::string>& vocab, const std::vector<int32_t>& ids,
                std::string& out) {
    out.clear();
    for (const int32_t id : ids) {
        if (id < 0 || static_cast<size_t>(id) >= vocab.size()) return false;
        out += vocab[static_cast<size_t>(id)];
    }
    return true;
}

bool detokenizeSpan(const std::vector<std::string>& vocab, const std::vector<int32_t>& ids,
                    size_t at, size_t len, std::string& out, size_t& size) {
    out.clear();
    size = 0;
    const size_t end = len > SIZE_MAX - at ? SIZE_MAX : at + len;
    for (const int32_t id : ids) {
        if (id < 0 || static_cast<size_t>(id) >= vocab.size()) return false;
        const std::string& token = vocab[static_cast<size_t>(id)];
        const size_t next = size + token.size();
        if (next > at && size < end) {
            const size_t from = std::max(size, at);
            out.append(token, from - size, std::min(next, end) - from);
        }
        size = next;
    }
    return true;
}

bool tokenBlobText(std::string_view blob, const std::vector<std::string>& vocab,
                   const std::vector<uint32_t>& lengths, std::vector<int32_t>& ids,
                   std::string& out, const std::string& what) {
    readIds(blob, ids, what);
    size_t size = 0;
    for (const int32_t id : ids) {
        if (id < 0 || static_cast<size_t>(id) >= lengths.size()) return false;
        size += lengths[static_cast<size_t>(id)];
    }
    out.resize(size);
    char* to = out.data();
    for (const int32_t id : ids) {
        const std::string& token = vocab[static_cast<size_t>(id)];
        std::memcpy(to, token.data(), token.size());
        to += token.size();
    }
    return true;
}

bool tokenBlobSpan(std::string_view blob, const std::vector<std::string>& vocab,
                   const std::vector<uint32_t>& lengths, size_t at, size_t len, std::string& out,
                   size_t& size, const std::string& what) {
    out.clear();
    size = 0;
    if (blob.empty()) return true;
    const auto bad = [&what] { return StoreError(what + ": malformed token blob"); };
    const auto format = static_cast<uint8_t>(blob[0]);
    if (format != 1 && format != 2) throw bad();
    size_t pos = 1;
    uint64_t n = 0;
    if (!getVarint(blob, pos, n) || n > blob.size()) throw bad();
    const size_t end = len > SIZE_MAX - at ? SIZE_MAX : at + len;
    const size_t vocab_size = lengths.size();
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t id = 0;
        if (!getVarintFast(blob, pos, id) || id > 0xffffffffULL) throw bad();
        if (id >= vocab_size) return false;
        const size_t next = size + lengths[static_cast<size_t>(id)];
        if (next > at && size < end) {
            const size_t from = std::max(size, at);
            out.append(vocab[static_cast<size_t>(id)], from - size, std::min(next, end) - from);
        }
        size = next;
    }
    return true;
}

}  // namespace reflab::store
