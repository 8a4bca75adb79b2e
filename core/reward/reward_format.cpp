// format component. See reward_format.h.
#include "core/reward/reward_format.h"

namespace reflab::reward {

ComponentValue formatComponent(std::string_view completion, const text::TagPair& think,
                               const text::TagPair& answer, FormatCheck check) {
    const bool valid = check == FormatCheck::Template
                           ? text::parseCompletion(completion, think, answer).format_valid
                           : text::formatValidWhitespaceFree(completion, think, answer);
    ComponentValue v;
    v.name = "format";
    v.value = valid ? 1.0 : 0.0;
    v.details = {{"valid", valid},
                 {"check", check == FormatCheck::Template ? "template" : "nover"}};
    return v;
}

}  // namespace reflab::reward
