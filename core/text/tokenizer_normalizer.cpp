// Unicode normalization steps of a tokenizer.json (see tokenizer_normalizer.h).
#include "core/text/tokenizer_normalizer.h"

#include <utf8proc.h>

#include <cstdlib>

#include "core/text/tokenizer.h"

namespace reflab::text::detail {

Normalizer Normalizer::fromJson(const nlohmann::json& j, const std::string& path) {
    Normalizer n;
    n.parse(j, path, "normalizer");
    return n;
}

void Normalizer::parse(const nlohmann::json& j, const std::string& path, const std::string& field) {
    if (j.is_null()) return;
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
        throw TokenizerError(path + ": " + field + ": expected an object with a \"type\"");
    const std::string type = j["type"].get<std::string>();
    if (type == "NFC") {
        m_steps.push_back(Form::NFC);
    } else if (type == "NFD") {
        m_steps.push_back(Form::NFD);
    } else if (type == "NFKC") {
        m_steps.push_back(Form::NFKC);
    } else if (type == "NFKD") {
        m_steps.push_back(Form::NFKD);
    } else if (type == "Sequence") {
        const auto it = j.find("normalizers");
        if (it == j.end() || !it->is_array())
            throw TokenizerError(path + ": " + field + ".normalizers: missing or not an array");
        for (size_t i = 0; i < it->size(); ++i)
            parse((*it)[i], path, field + ".normalizers[" + std::to_string(i) + "]");
    } else {
        throw TokenizerError(path + ": " + field + ".type \"" + type +
                             "\" is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence)");
    }
}

std::string Normalizer::apply(std::string_view text) const {
    std::string cur(text);
    for (const Form form : m_steps) {
        // ASCII is invariant under every form; text below U+0300 (no byte >= 0xCC) is
        // already NFC because nothing there composes or decomposes canonically.
        bool ascii = true, below300 = true;
        for (const char c : cur) {
            const auto b = static_cast<uint8_t>(c);
            ascii = ascii && b < 0x80;
            below300 = below300 && b < 0xCC;
        }
        if (ascii || (form == Form::NFC && below300)) continue;
        int options = UTF8PROC_STABLE;
        switch (form) {
            case Form::NFC:
                options |= UTF8PROC_COMPOSE;
                break;
            case Form::NFD:
                options |= UTF8PROC_DECOMPOSE;
                break;
            case Form::NFKC:
                options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
                break;
            case Form::NFKD:
                options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT;
                break;
        }
        utf8proc_uint8_t* out = nullptr;
        const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(cur.data()),
                                    static_cast<utf8proc_ssize_t>(cur.size()), &out,
                                    static_cast<utf8proc_option_t>(options));
        if (n < 0) {
            std::free(out);
            throw TokenizerError(std::string("normalizer: ") + utf8proc_errmsg(n));
        }
        cur.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
        std::free(out);
    }
    return cur;
}

}  // namespace reflab::text::detail
