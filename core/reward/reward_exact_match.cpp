// exact_match component. See reward_exact_match.h.
#include "core/reward/reward_exact_match.h"

#include <utf8proc.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include "core/text/completion_format.h"

namespace reflab::reward {
namespace {

std::string foldUnicode(std::string_view s) {
    // ASCII (nearly every answer and reference): NFKC maps it to itself and case folding maps
    // A-Z to a-z, so utf8proc's allocation and table walk (most of the time of judging a
    // million answers, or of re-scoring exact_match) are skipped.
    if (std::all_of(s.begin(), s.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
        std::string folded(s);
        for (char& c : folded)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        return folded;
    }
    utf8proc_uint8_t* out = nullptr;
    const auto opts = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                     UTF8PROC_COMPAT | UTF8PROC_CASEFOLD);
    const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                            static_cast<utf8proc_ssize_t>(s.size()), &out, opts);
    if (n < 0) return std::string(s);  // invalid UTF-8: compare the bytes as they are
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> hold(out, &std::free);
    return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

// Commas are thousands separators only in groups of three after one to three leading digits
// ("1,234", "-12,345.5"); "1,2" is not a number (it never equals 12).
bool stripThousands(const std::string& s, std::string* out) {
    const size_t first = s.find(',');
    if (first == std::string::npos) {
        *out = s;
        return true;
    }
    const size_t sign = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    size_t end = s.find_first_not_of("0123456789,", sign);
    if (end == std::string::npos) end = s.size();
    if (end < s.size() && s[end] != '.') return false;  // commas only in the integer part
    if (first == sign || first - sign > 3) return false;
    for (size_t i = sign; i < end; ++i) {
        const bool comma_here = (end - i) % 4 == 0;  // counted from the decimal point
        if ((s[i] == ',') != comma_here) return false;
    }
    if (s.find(',', end) != std::string::npos) return false;
    out->clear();
    for (char c : s)
        if (c != ',') out->push_back(c);
    return true;
}

bool readNumber(const std::string& s, double* x) {
    std::string t;
    if (!stripThousands(s, &t)) return false;
    if (t.empty()) return false;
    char* end = nullptr;
    *x = std::strtod(t.c_str(), &end);
    return end == t.c_str() + t.size() && std::isfinite(*x);
}

}  // namespace

std::string normalizeAnswer(std::string_view text) {
    const std::string folded = foldUnicode(text);
    std::string out;
    bool space = false;
    for (char c : folded) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (const char* p : {".", "!", "\xE3\x80\x82"}) {  // . ! 。
            const std::string suffix = p;
            if (out.size() >= suffix.size() &&
                out.compare(out.size() - suffix.size(), suffix.size(), suffix) == 0) {
                out.erase(out.size() - suffix.size());
                out = std::string(text::stripWhitespace(out));
                changed = true;
            }
        }
    }
    return out;
}

bool answersMatch(std::string_view answer, std::string_view reference) {
    const std::string a = normalizeAnswer(answer), r = normalizeAnswer(reference);
    if (r.empty()) return false;  // nothing to match: an empty reference never counts as correct
    if (a == r) return true;
    double x, y;
    if (readNumber(a, &x) && readNumber(r, &y))
        return std::fabs(x - y) <= 1e-9 * std::max(1.0, std::fabs(y));
    return false;
}

ComponentValue exactMatchComponent(std::string_view answer, std::string_view reference) {
    ComponentValue v;
    v.name = "exact_match";
    v.value = answersMatch(answer, reference) ? 1.0 : 0.0;
    v.details = {{"answer", normalizeAnswer(answer)}, {"reference", normalizeAnswer(reference)}};
    return v;
}

}  // namespace reflab::reward
