// format component. See reward_format.h.
#include "core/reward/reward_format.h"

namespace reflab::reward {

ComponentValue formatComponent(std::string_view completion, const text::TagPair& think,
                               const text::TagPair& answer, FormatCheck check) {
    bool valid = false;
    const char* name = "template";
    switch (check) {
        case FormatCheck::Template:
            valid = text::parseCompletion(completion, think, answer).format_valid;
            break;
        case FormatCheck::Nover:
            valid = text::formatValidWhitespaceFree(completion, think, answer);
            name = "nover";
            break;
        case FormatCheck::Rlpr:
            valid = text::formatValidRlpr(completion, think, answer);
            name = "rlpr";
            break;
    }
    ComponentValue v;
    v.name = "format";
    v.value = valid ? 1.0 : 0.0;
    v.details = {{"valid", valid}, {"check", name}};
    return v;
}

}  // namespace reflab::reward
