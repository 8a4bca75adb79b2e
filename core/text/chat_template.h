// reflab::text::ChatTemplate: turns chat messages into the prompt text a model was trained on.
// Built in: ChatML (Qwen), Llama 3, and plain for base models. A model's template is chosen by
// recognising markers in its tokenizer_config.json "chat_template" (no Jinja engine):
//   ChatML  <|im_start|>role\ncontent<|im_end|>\n ...; generation prompt "<|im_start|>assistant\n".
//           Qwen2.5's default system message ("You are Qwen, created by Alibaba Cloud. ...") is
//           taken from the template and used when the messages have no system message.
//   Llama 3 <|begin_of_text|> then <|start_header_id|>role<|end_header_id|>\n\n content(trimmed)
//           <|eot_id|> ...; generation prompt "<|start_header_id|>assistant<|end_header_id|>\n\n".
//           (Llama 3.1's date preamble in the system turn is not reproduced.)
//   plain   for base models (no chat_template): the messages' contents, role-less, joined by a
//           blank line ("\n\n"); the generation prompt adds nothing, so a base-model prompt is
//           exactly its text (write "Answer:" or the like into the prompt itself).
// Assistant turns in the history are rendered verbatim (Qwen3's template would drop the
// <think> part of earlier turns; RL prompts hold no assistant turns, so this does not arise).
#pragma once
#include <string>
#include <vector>

#include "core/text/tokenizer.h"

namespace reflab::text {

struct ChatMessage {
    std::string role;  // "system" | "user" | "assistant"
    std::string content;
};

class ChatTemplate {
public:
    // Reads DIR/tokenizer_config.json ("chat_template": a string, or a list of {name, template}
    // whose "default" is used), else DIR/chat_template.jinja. None of them (or no
    // chat_template) -> plain. A template that is neither ChatML nor Llama 3 -> TokenizerError
    // naming tokenizer_config.json and saying it is not supported.
    static ChatTemplate fromModelDir(const std::string& dir);
    static ChatTemplate chatml();
    static ChatTemplate llama3();
    static ChatTemplate plain();

    std::string name() const { return m_name; }  // "chatml" | "llama3" | "plain"
    std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;
    // Text at which generation stops (besides the model's EOS id), e.g. "<|im_end|>".
    std::vector<std::string> stopStrings() const;
    // The system message used when none is given ("" = none); Qwen2.5's comes from its template.
    const std::string& defaultSystem() const { return m_default_system; }

private:
    enum class Kind { ChatML, Llama3, Plain };
    ChatTemplate(Kind kind, std::string name) : m_kind(kind), m_name(std::move(name)) {}
    Kind m_kind;
    std::string m_name;
    std::string m_default_system;
};

}  // namespace reflab::text
