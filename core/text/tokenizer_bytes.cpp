// Byte-level table, UTF-8 validation and lossy decoding (see tokenizer_bytes.h).
#include "core/text/tokenizer_bytes.h"

#include <utf8proc.h>

#include <array>

namespace reflab::text::detail {
namespace {

struct ByteTable {
    std::array<std::string, 256> text;    // byte -> UTF-8 of its stand-in
    std::array<int32_t, 256> code_point;  // byte -> stand-in code point
    ByteTable() {
        // GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the other
        // 68 bytes take U+0100, U+0101, ... in byte order.
        int next = 256;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            code_point[b] = printable ? b : next++;
            utf8proc_uint8_t buf[4];
            const auto n = utf8proc_encode_char(code_point[b], buf);
            text[b].assign(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
        }
    }
};

const ByteTable& table() {
    static const ByteTable t;
    return t;
}

// Length of the well-formed UTF-8 sequence at s[i] (Unicode Table 3-7), or 0 when there is
// none; `consumed` then holds the length of the maximal invalid subpart (at least 1).
size_t sequenceAt(std::string_view s, size_t i, size_t& consumed) {
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    const uint8_t b0 = byte(i);
    consumed = 1;
    if (b0 < 0x80) return 1;
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 3;
        if (b0 == 0xE0) lo = 0xA0;  // no overlongs
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 4;
        if (b0 == 0xF0) lo = 0x90;  // no overlongs
        if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
        return 0;
    }
    for (size_t k = 1; k < need; ++k) {
        if (i + k >= s.size()) return 0;
        const uint8_t b = byte(i + k);
        const bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        if (!ok) return 0;
        consumed = k + 1;
    }
    return need;
}

int32_t decodeAt(std::string_view s, size_t i, size_t& len) {
    utf8proc_int32_t cp = -1;
    const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                    static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    len = n > 0 ? static_cast<size_t>(n) : 1;
    return n > 0 ? cp : -1;
}

}  // namespace

const std::string& byteLevelChar(uint8_t b) {
    return table().text[b];
}

int byteLevelByte(int32_t cp) {
    static const std::array<int16_t, 324> reverse = [] {
        std::array<int16_t, 324> r{};
        r.fill(-1);
        for (int b = 0; b < 256; ++b) r[static_cast<size_t>(table().code_point[b])] = b;
        return r;
    }();
    if (cp < 0 || cp >= static_cast<int32_t>(reverse.size())) return -1;
    return reverse[static_cast<size_t>(cp)];
}

std::string toByteLevel(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) out += byteLevelChar(static_cast<uint8_t>(c));
    return out;
}

void appendFromByteLevel(std::string_view token, std::string& out) {
    const size_t start = out.size();
    for (size_t i = 0; i < token.size();) {
        size_t len;
        const int b = byteLevelByte(decodeAt(token, i, len));
        if (b < 0) {  // not a byte-level token: keep its text as it is
            out.resize(start);
            out.append(token);
            return;
        }
        out.push_back(static_cast<char>(b));
        i += len;
    }
}

size_t firstInvalidUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        if (static_cast<uint8_t>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t consumed;
        const size_t n = sequenceAt(s, i, consumed);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

std::string utf8Lossy(std::string_view bytes) {
    if (firstInvalidUtf8(bytes) == std::string_view::npos) return std::string(bytes);
    std::string out;
    out.reserve(bytes.size() + 8);
    for (size_t i = 0; i < bytes.size();) {
        size_t consumed;
        const size_t n = sequenceAt(bytes, i, consumed);
        if (n == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD
            i += consumed;
        } else {
            out.append(bytes.substr(i, n));
            i += n;
        }
    }
    return out;
}

bool isWhiteSpace(int32_t cp) {
    if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) return true;
    const auto cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL ||
           cat == UTF8PROC_CATEGORY_ZP;
}

bool isAlphanumeric(int32_t cp) {
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return true;
        default:
            return false;
    }
}

}  // namespace reflab::text::detail
