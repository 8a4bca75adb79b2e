// Scoring texts of rgr and rlpr. See reward_reference_texts.h.
#include "core/reward/reward_reference_texts.h"

namespace reflab::reward {

ReferenceTexts referenceTexts(const std::string& prompt, const std::string& completion,
                              size_t answer_open, const std::string& reference,
                              const TemplateSection& templ, bool score_tags) {
    ReferenceTexts t;
    const size_t cut = answer_open == std::string::npos ? completion.size() : answer_open;
    t.context = prompt + completion.substr(0, cut) + templ.answer.open;
    t.target = score_tags ? reference + templ.answer.close : reference;
    return t;
}

}  // namespace reflab::reward
