// Tokenizer: loading a tokenizer.json and the encode/decode pipeline (see tokenizer.h).
// The pieces live in tokenizer_{bytes,normalizer,pretok,bpe,added}.cpp.
#include "core/text/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/text/tokenizer_added.h"
#include "core/text/tokenizer_bpe.h"
#include "core/text/tokenizer_bytes.h"
#include "core/text/tokenizer_normalizer.h"
#include "core/text/tokenizer_post.h"
#include "core/text/tokenizer_pretok.h"

namespace reflab::text {

struct TokenizerImpl {
    std::string path;
    detail::Normalizer normalizer;
    detail::PreTokenizer pre_tokenizer;
    detail::BpeModel model;
    detail::AddedVocab added;
    detail::PostProcessor post_processor;
    int32_t vocab_size = 0;
};

namespace {

nlohmann::json readJson(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw TokenizerError(path + ": cannot read the file (" + std::strerror(errno) + ")");
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) throw TokenizerError(path + ": cannot read the file");
    try {
        return nlohmann::json::parse(buf.str());
    } catch (const nlohmann::json::parse_error& e) {
        throw TokenizerError(path + ": invalid JSON at byte " + std::to_string(e.byte) + ": " +
                             e.what());
    }
}

bool flag(const nlohmann::json& j, const char* key, bool fallback, const std::string& where) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw TokenizerError(where + "." + key + ": expected true or false");
    return it->get<bool>();
}

void checkDecoder(const nlohmann::json& j, const std::string& path, const std::string& field) {
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw TokenizerError(path + ": " + field + ": expected a ByteLevel decoder");
    const std::string type = j["type"].get<std::string>();
    if (type == "ByteLevel") return;
    if (type == "Sequence" && j.contains("decoders") && j["decoders"].is_array() &&
        j["decoders"].size() == 1) {
        checkDecoder(j["decoders"][0], path, field + ".decoders[0]");
        return;
    }
    throw TokenizerError(path + ": " + field + ".type \"" + type +
                         "\" is not supported (supported: ByteLevel)");
}

}  // namespace

Tokenizer Tokenizer::fromFile(const std::string& tokenizer_json_path) {
    const std::string& path = tokenizer_json_path;
    const nlohmann::json root = readJson(path);
    if (!root.is_object()) throw TokenizerError(path + ": expected a JSON object at the top");
    auto impl = std::make_shared<TokenizerImpl>();
    impl->path = path;

    const auto model = root.find("model");
    if (model == root.end() || !model->is_object())
        throw TokenizerError(path + ": model: missing or not an object");
    const auto type = model->find("type");
    if (type != model->end() && !(type->is_string() && type->get<std::string>() == "BPE"))
        throw TokenizerError(path + ": model.type is " + type->dump() +
                             "; only BPE (byte-level) tokenizers are supported");
    impl->model.load(*model, path);

    impl->normalizer =
        detail::Normalizer::fromJson(root.value("normalizer", nlohmann::json()), path);
    impl->pre_tokenizer =
        detail::PreTokenizer::fromJson(root.value("pre_tokenizer", nlohmann::json()), path);
    checkDecoder(root.value("decoder", nlohmann::json()), path, "decoder");
    impl->post_processor =
        detail::PostProcessor::fromJson(root.value("post_processor", nlohmann::json()), path);

    const auto added = root.find("added_tokens");
    if (added != root.end() && !added->is_null()) {
        if (!added->is_array()) throw TokenizerError(path + ": added_tokens: not an array");
        for (size_t i = 0; i < added->size(); ++i) {
            const auto& t = (*added)[i];
            const std::string where = path + ": added_tokens[" + std::to_string(i) + "]";
            if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
                t["id"].get<int64_t>() < 0 || t["id"].get<int64_t>() > INT32_MAX)
                throw TokenizerError(where + ".id: missing or not a non-negative integer");
            if (!t.contains("content") || !t["content"].is_string())
                throw TokenizerError(where + ".content: missing or not a string");
            detail::AddedToken token;
            token.id = t["id"].get<int32_t>();
            token.content = t["content"].get<std::string>();
            token.special = flag(t, "special", false, where);
            token.lstrip = flag(t, "lstrip", false, where);
            token.rstrip = flag(t, "rstrip", false, where);
            token.single_word = flag(t, "single_word", false, where);
            token.normalized = flag(t, "normalized", !token.special, where);
            if (detail::firstInvalidUtf8(token.content) != std::string::npos)
                throw TokenizerError(where + ".content: invalid UTF-8");
            impl->added.add(std::move(token));
        }
    }
    impl->added.finalize(impl->normalizer);
    impl->vocab_size = std::max(impl->model.maxId(), impl->added.maxId()) + 1;
    return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view utf8) const {
    const size_t bad = detail::firstInvalidUtf8(utf8);
    if (bad != std::string_view::npos)
        throw TokenizerError("encode: the text is not valid UTF-8 at byte offset " +
                             std::to_string(bad));
    std::vector<int32_t> ids;
    ids.reserve(utf8.size() / 3 + 4);
    std::vector<detail::Segment> segments;
    m_impl->added.split(utf8, m_impl->normalizer, segments);
    std::vector<std::string> words;
    for (const detail::Segment& seg : segments) {
        if (seg.id >= 0) {
            ids.push_back(seg.id);
            continue;
        }
        words.clear();
        m_impl->pre_tokenizer.split(seg.text, words);
        for (const std::string& w : words) m_impl->model.encodeWord(w, ids);
    }
    return ids;
}

std::vector<int32_t> Tokenizer::encode(std::string_view utf8, bool add_special_tokens) const {
    std::vector<int32_t> ids = encode(utf8);
    return add_special_tokens ? m_impl->post_processor.apply(ids) : ids;
}

std::vector<int32_t> Tokenizer::specialPrefix() const {
    return m_impl->post_processor.prefix();
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
    // As HF: every token's byte-level text is turned back into bytes, then the whole byte
    // string is read as UTF-8, lossily.
    std::string bytes;
    bytes.reserve(ids.size() * 4);
    for (const int32_t id : ids) {
        if (const detail::AddedToken* t = m_impl->added.byId(id)) {
            if (skip_special && t->special) continue;
            detail::appendFromByteLevel(t->content, bytes);
        } else if (const std::string* text = m_impl->model.tokenText(id)) {
            detail::appendFromByteLevel(*text, bytes);
        }
    }
    return detail::utf8Lossy(bytes);
}

std::optional<int32_t> Tokenizer::tokenId(std::string_view token) const {
    if (const detail::AddedToken* t = m_impl->added.byContent(token)) return t->id;
    return m_impl->model.tokenId(token);
}

std::string Tokenizer::tokenText(int32_t id) const {
    if (const detail::AddedToken* t = m_impl->added.byId(id)) return t->content;
    if (const std::string* text = m_impl->model.tokenText(id)) return *text;
    throw TokenizerError(m_impl->path + ": token id " + std::to_string(id) +
                         " is not in the vocabulary");
}

std::vector<std::string> Tokenizer::byteVocabulary() const {
    std::vector<std::string> out(static_cast<size_t>(m_impl->vocab_size));
    for (int32_t id = 0; id < m_impl->vocab_size; ++id) {
        if (const detail::AddedToken* t = m_impl->added.byId(id))
            detail::appendFromByteLevel(t->content, out[size_t(id)]);
        else if (const std::string* text = m_impl->model.tokenText(id))
            detail::appendFromByteLevel(*text, out[size_t(id)]);
    }
    return out;
}

int32_t Tokenizer::vocabSize() const {
    return m_impl->vocab_size;
}

bool Tokenizer::isSpecial(int32_t id) const {
    const detail::AddedToken* t = m_impl->added.byId(id);
    return t && t->special;
}

const std::string& Tokenizer::path() const {
    return m_impl->path;
}

}  // namespace reflab::text
