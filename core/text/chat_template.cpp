// Chat templates by marker recognition (see chat_template.h).
#include "core/text/chat_template.h"

#include <nlohmann/json.hpp>

#include <utf8proc.h>
#include <fstream>
#include <sstream>

#include "core/text/tokenizer_bytes.h"

namespace reflab::text {
namespace {

bool readFile(const std::string& path, std::string& out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    std::ostringstream buf;
    buf << in.rdbuf();
    out = buf.str();
    return true;
}

// Jinja's `trim` (Python str.strip()): leading and trailing Unicode whitespace.
std::string trim(const std::string& s) {
    const auto cpAt = [&](size_t i, size_t& len) {
        utf8proc_int32_t cp = -1;
        const auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                        static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
        len = n > 0 ? static_cast<size_t>(n) : 1;
        return cp;
    };
    size_t b = 0;
    for (size_t len; b < s.size() && detail::isWhiteSpace(cpAt(b, len)); b += len) {
    }
    size_t e = s.size();
    while (e > b) {
        size_t start = e - 1;
        while (start > b && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
        size_t len;
        if (!detail::isWhiteSpace(cpAt(start, len))) break;
        e = start;
    }
    return s.substr(b, e - b);
}

// Qwen2.5's template writes a fixed system turn when the messages have none:
//   '<|im_start|>system\nYou are Qwen, ...<|im_end|>\n'   (one Jinja string literal)
// Returns its text, or "" when the template has no such literal.
std::string chatmlDefaultSystem(const std::string& tpl) {
    const std::string open = "'<|im_start|>system\\n";
    const std::string close = "<|im_end|>\\n'";
    for (size_t at = tpl.find(open); at != std::string::npos; at = tpl.find(open, at + 1)) {
        const size_t body = at + open.size();
        const size_t quote = tpl.find('\'', body);
        if (quote == std::string::npos || quote + 1 < close.size()) continue;
        const size_t end = quote + 1 - close.size();
        if (end < body || tpl.compare(end, close.size(), close) != 0) continue;
        const std::string raw = tpl.substr(body, end - body);
        std::string text;  // undo the literal's escapes
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] == '\\' && i + 1 < raw.size()) {
                const char c = raw[++i];
                text += c == 'n' ? '\n' : c == 't' ? '\t' : c;
            } else {
                text += raw[i];
            }
        }
        if (!text.empty()) return text;
    }
    return "";
}

}  // namespace

ChatTemplate ChatTemplate::chatml() {
    return ChatTemplate(Kind::ChatML, "chatml");
}
ChatTemplate ChatTemplate::llama3() {
    return ChatTemplate(Kind::Llama3, "llama3");
}
ChatTemplate ChatTemplate::plain() {
    return ChatTemplate(Kind::Plain, "plain");
}

ChatTemplate ChatTemplate::fromModelDir(const std::string& dir) {
    const std::string config_path = dir + "/tokenizer_config.json";
    std::string text, tpl, source = config_path;
    if (readFile(config_path, text)) {
        nlohmann::json config;
        try {
            config = nlohmann::json::parse(text);
        } catch (const nlohmann::json::parse_error& e) {
            throw TokenizerError(config_path + ": invalid JSON at byte " + std::to_string(e.byte) +
                                 ": " + e.what());
        }
        const auto it = config.is_object() ? config.find("chat_template") : config.end();
        if (config.is_object() && it != config.end() && !it->is_null()) {
            if (it->is_string()) {
                tpl = it->get<std::string>();
            } else if (it->is_array()) {  // [{"name": "default", "template": "..."}, ...]
                for (const auto& entry : *it)
                    if (entry.is_object() && entry.value("name", std::string()) == "default" &&
                        entry.contains("template") && entry["template"].is_string())
                        tpl = entry["template"].get<std::string>();
                if (tpl.empty())
                    throw TokenizerError(config_path +
                                         ": chat_template: a list without a \"default\" template");
            } else {
                throw TokenizerError(config_path + ": chat_template: expected a string or a list");
            }
        }
    }
    if (tpl.empty() && readFile(dir + "/chat_template.jinja", text)) {
        tpl = text;
        source = dir + "/chat_template.jinja";
    }
    if (tpl.empty()) return plain();
    if (tpl.find("<|im_start|>") != std::string::npos &&
        tpl.find("<|im_end|>") != std::string::npos) {
        ChatTemplate t = chatml();
        t.m_default_system = chatmlDefaultSystem(tpl);
        return t;
    }
    if (tpl.find("<|start_header_id|>") != std::string::npos &&
        tpl.find("<|end_header_id|>") != std::string::npos &&
        tpl.find("<|eot_id|>") != std::string::npos)
        return llama3();
    throw TokenizerError(source +
                         ": chat_template is not supported (RefLab recognises ChatML "
                         "templates (<|im_start|>role ... <|im_end|>, Qwen) and Llama 3 "
                         "templates (<|start_header_id|>role<|end_header_id|> ... <|eot_id|>); "
                         "a model without a chat_template gets the plain template)");
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) const {
    std::string out;
    switch (m_kind) {
        case Kind::ChatML:
            if (!m_default_system.empty() && (messages.empty() || messages[0].role != "system"))
                out += "<|im_start|>system\n" + m_default_system + "<|im_end|>\n";
            for (const ChatMessage& m : messages)
                out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
            if (add_generation_prompt) out += "<|im_start|>assistant\n";
            break;
        case Kind::Llama3:
            out += "<|begin_of_text|>";
            for (const ChatMessage& m : messages)
                out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + trim(m.content) +
                       "<|eot_id|>";
            if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
            break;
        case Kind::Plain:
            for (size_t i = 0; i < messages.size(); ++i) {
                if (i) out += "\n\n";
                out += messages[i].content;
            }
            break;
    }
    return out;
}

std::vector<std::string> ChatTemplate::stopStrings() const {
    switch (m_kind) {
        case Kind::ChatML:
            return {"<|im_end|>", "<|endoftext|>"};
        case Kind::Llama3:
            return {"<|eot_id|>", "<|end_of_text|>"};
        case Kind::Plain:
            break;
    }
    return {};
}

}  // namespace reflab::text
