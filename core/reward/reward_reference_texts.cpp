// Scoring texts of rgr and rlpr. See reward_reference_texts.h.
#include "core/reward/reward_reference_texts.h"

namespace reflab::reward {

std::string answerLeadingWhitespace(const std::string& completion, size_t answer_open,
                                    const TemplateSection& templ) {
    const std::string& open = templ.answer.open;
    if (answer_open == std::string::npos || completion.compare(answer_open, open.size(), open) != 0)
        return " ";
    std::string ws;
    for (size_t i = answer_open + open.size(); i < completion.size(); ++i) {
        const char c = completion[i];
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r') break;
        ws.push_back(c);
    }
    return ws.empty() ? " " : ws;
}

ReferenceTexts referenceTexts(const std::string& prompt, const std::string& completion,
                              size_t answer_open, const std::string& reference,
                              const TemplateSection& templ, bool score_tags) {
    ReferenceTexts t;
    const size_t cut = answer_open == std::string::npos ? completion.size() : answer_open;
    t.context = prompt + completion.substr(0, cut) + templ.answer.open +
                answerLeadingWhitespace(completion, answer_open, templ);
    const std::string close = " " + templ.answer.close;
    t.target = score_tags ? reference + close : reference;
    t.suffix = score_tags ? "" : close;
    return t;
}

}  // namespace reflab::reward
