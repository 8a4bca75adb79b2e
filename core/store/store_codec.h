// Compact BLOB encodings of core/store: per-rollout token ids + log-probs, and a vocabulary
// (token id -> bytes). Little-endian on every machine, so a workspace file can be mailed.
//   tokens blob:     u8 format (1) | varint n | n varint ids | n float16 log-probs
//   halves blob:     varint n | n float16 (per-token entropies, stored beside the tokens)
//   vocabulary blob: varint count  | per token: varint length, bytes
// A varint is unsigned LEB128 (7 bits per byte, low first): ids under 16384 take two bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace reflab::store {

std::string encodeTokens(const std::vector<int32_t>& ids, const std::vector<float>& logprobs);
// Throws StoreError (naming `what`) when the blob is malformed.
void decodeTokens(std::string_view blob, std::vector<int32_t>& ids, std::vector<float>& logprobs,
                  const std::string& what);
// The ids alone (a re-score reads the text, not the log-probs: their float16 conversion was a
// tenth of its time).
void decodeTokenIds(std::string_view blob, std::vector<int32_t>& ids, const std::string& what);

// Floats as float16, the log-probs' encoding (entropies in nats: ~3 significant digits).
std::string encodeHalves(const std::vector<float>& values);
// Throws StoreError (naming `what`) when the blob is malformed.
std::vector<float> decodeHalves(std::string_view blob, const std::string& what);

std::string encodeVocabulary(const std::vector<std::string>& tokens);
std::vector<std::string> decodeVocabulary(std::string_view blob, const std::string& what);

// Concatenated bytes of the tokens; false when an id is outside the vocabulary.
bool detokenize(const std::vector<std::string>& vocab, const std::vector<int32_t>& ids,
                std::string& out);

// The bytes [at, at + len) of the tokens' concatenation (clipped to its end) into `out`, and
// the concatenation's size into `size`, without building it (a stored answer is a span of its
// completion); false when an id is outside the vocabulary.
bool detokenizeSpan(const std::vector<std::string>& vocab, const std::vector<int32_t>& ids,
                    size_t at, size_t len, std::string& out, size_t& size);

// detokenizeSpan of a tokens blob's ids, read straight from the blob (no id vector, no log-prob)
// with the tokens' byte lengths from `lengths` (lengths[i] = vocab[i].size(), a dense array
// instead of a walk over the strings): what the diagnostics read of a million completions.
// Throws StoreError (naming `what`) when the blob is malformed; false when an id is outside the
// vocabulary.
bool tokenBlobSpan(std::string_view blob, const std::vector<std::string>& vocab,
                   const std::vector<uint32_t>& lengths, size_t at, size_t len, std::string& out,
                   size_t& size, const std::string& what);

// detokenize of a tokens blob's ids into `out` (its old contents replaced), read straight from
// the blob and copied into one allocation of the exact size (a re-score reads every completion
// of a run). Throws StoreError (naming `what`) when the blob is malformed; false when an id is
// outside the vocabulary.
bool tokenBlobText(std::string_view blob, const std::vector<std::string>& vocab,
                   const std::vector<uint32_t>& lengths, std::vector<int32_t>& ids,
                   std::string& out, const std::string& what);

// float <-> IEEE binary16 (round to nearest even; inf and NaN kept).
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t half);

// 64-bit FNV-1a, for deduplicating prompts and vocabularies.
uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace reflab::store
