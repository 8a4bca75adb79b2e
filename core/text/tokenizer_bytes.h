// Byte-level pieces of the tokenizer: GPT-2's byte <-> printable-character table (the
// ByteLevel pre-tokenizer and decoder), UTF-8 validation with the failing offset, and
// lossy UTF-8 decoding that replaces invalid runs exactly as Rust's String::from_utf8_lossy
// (which HF's ByteLevel decoder uses), so decode() agrees with HF on broken byte sequences.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace reflab::text::detail {

// The UTF-8 text of the printable character that stands for byte b in byte-level vocabularies
// ('A' for 0x41, "Ġ" (U+0120) for a space).
const std::string& byteLevelChar(uint8_t b);

// The byte a byte-level character stands for, or -1 when cp is not one of the 256.
int byteLevelByte(int32_t cp);

// Maps raw bytes to their byte-level text ("a b" -> "aĠb").
std::string toByteLevel(std::string_view bytes);

// Appends the bytes a byte-level token stands for. A token with a character outside the
// table is appended as it is (HF does the same), e.g. an added token with non-ASCII text.
void appendFromByteLevel(std::string_view token, std::string& out);

// Byte offset of the first byte that is not part of valid UTF-8 (overlongs, surrogates and
// code points past U+10FFFF are invalid), or npos when the whole text is valid.
size_t firstInvalidUtf8(std::string_view s);

// Valid UTF-8 from arbitrary bytes: each maximal invalid subpart becomes one U+FFFD.
std::string utf8Lossy(std::string_view bytes);

// Unicode White_Space (what Rust's char::is_whitespace tests), for added tokens' lstrip/rstrip.
bool isWhiteSpace(int32_t cp);
// Letter or number (Rust's char::is_alphanumeric, near enough), for single_word added tokens.
bool isAlphanumeric(int32_t cp);

}  // namespace reflab::text::detail
