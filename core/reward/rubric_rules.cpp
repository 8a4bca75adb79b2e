// Rule criteria of the rubric component. See rubric_rules.h. Regular expressions are PCRE2
// (UTF + UCP + caseless); a small RAII wrapper keeps the compiled code and match data.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/reward/rubric_rules.h"

#include <pcre2.h>

#include <memory>

#include "core/reward/reward_types.h"
#include "core/text/completion_format.h"

namespace reflab::reward {
namespace {

class Regex {
public:
    explicit Regex(const std::string& pattern, uint32_t extra = 0) {
        int err = 0;
        PCRE2_SIZE off = 0;
        m_code.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | extra, &err, &off,
                                   nullptr));
        if (!m_code) {
            PCRE2_UCHAR buf[256];
            pcre2_get_error_message(err, buf, sizeof buf);
            throw RewardError("rubric rule: bad pattern at " + std::to_string(off) + ": " +
                              reinterpret_cast<const char*>(buf));
        }
    }
    // First match at or after `start`: [begin, end) byte offsets, or false.
    // Match data per call, so one compiled (static) pattern is safe to share across threads.
    bool find(std::string_view s, size_t start, size_t* begin, size_t* end) const {
        std::unique_ptr<pcre2_match_data, DataFree> data(
            pcre2_match_data_create_from_pattern(m_code.get(), nullptr));
        const int rc = pcre2_match(m_code.get(), reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(),
                                   start, 0, data.get(), nullptr);
        if (rc < 0) return false;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
        *begin = ov[0];
        *end = ov[1];
        return true;
    }
    bool matches(std::string_view s) const {
        size_t b, e;
        return find(s, 0, &b, &e);
    }

private:
    struct CodeFree {
        void operator()(pcre2_code* c) const { pcre2_code_free(c); }
    };
    struct DataFree {
        void operator()(pcre2_match_data* d) const { pcre2_match_data_free(d); }
    };
    std::unique_ptr<pcre2_code, CodeFree> m_code;
};

// \Q…\E quoting with any "\E" inside the text split out.
std::string quote(const std::string& s) {
    std::string out = "\\Q";
    size_t p = 0, q;
    while ((q = s.find("\\E", p)) != std::string::npos) {
        out += s.substr(p, q - p) + "\\E\\\\E\\Q";
        p = q + 2;
    }
    return out + s.substr(p) + "\\E";
}

// A whole word or phrase: not glued to letters/digits on either side.
Regex wordRegex(const std::string& word) {
    return Regex("(?<![\\w])" + quote(word) + "(?![\\w])");
}

bool emptyText(std::string_view t) {
    return text::stripWhitespace(t).empty();
}

RuleResult emptyResult() {
    return {0.0, {}, "empty text"};
}

RuleResult sentenceFraction(std::string_view text, const Regex& bad, const char* what) {
    if (emptyText(text)) return emptyResult();
    const auto sentences = splitSentences(text);
    RuleResult r;
    for (const auto& s : sentences)
        if (bad.matches(s)) r.failing.push_back(s);
    r.value = 1.0 - static_cast<double>(r.failing.size()) / static_cast<double>(sentences.size());
    r.reason = r.failing.empty() ? std::string("no sentence ") + what
                                 : std::to_string(r.failing.size()) + " of " +
                                       std::to_string(sentences.size()) + " sentences " + what;
    return r;
}

}  // namespace

nlohmann::json RuleResult::toJson() const {
    return {{"value", value}, {"failing", failing}, {"reason", reason}};
}

std::vector<std::string> splitSentences(std::string_view text) {
    static const Regex boundary("(?<=[.!?])\\s+|\\R+");
    std::vector<std::string> out;
    size_t pos = 0, b = 0, e = 0;
    auto push = [&](std::string_view piece) {
        const auto s = text::stripWhitespace(piece);
        if (!s.empty()) out.emplace_back(s);
    };
    while (pos <= text.size() && boundary.find(text, pos, &b, &e)) {
        if (e == b) {  // an empty match cannot happen with these alternatives; guard anyway
            ++pos;
            continue;
        }
        push(text.substr(pos, b - pos));
        pos = e;
    }
    if (pos < text.size()) push(text.substr(pos));
    return out;
}

RuleResult ruleSections(std::string_view text, const std::vector<std::string>& sections) {
    if (emptyText(text)) return emptyResult();
    RuleResult r;
    size_t present = 0;
    for (const auto& name : sections) {
        // A heading line naming the section, or a line opening with "Name:".
        const Regex heading("^[ \\t]*(?:#{1,6}[ \\t]*)?(?:\\*\\*|__)?" + quote(name) +
                                "(?:\\*\\*|__)?[ \\t]*(?::[^\\n]*)?$",
                            PCRE2_MULTILINE);
        if (heading.matches(text)) {
            ++present;
        } else {
            r.failing.push_back(name);
        }
    }
    r.value = static_cast<double>(present) / static_cast<double>(sections.size());
    r.reason = r.failing.empty() ? "all sections present"
                                 : "missing " + std::to_string(r.failing.size()) + " of " +
                                       std::to_string(sections.size()) + " sections";
    return r;
}

bool isDirectiveSentence(std::string_view sentence) {
    static const Regex opener(
        "^[\\W_]*(?:please|do|don't|do not|never|always|avoid|be|use|write|make|keep|ensure|"
        "include|provide|answer|respond|reply|follow|give|list|explain|remember|try|consider|"
        "add|remove|state|describe|focus|stop|start|check|note|let|put|take|return|output|"
        "begin|end|ask|tell|show|refer|limit|prefer|think)\\b");
    static const Regex obligation("\\b(?:must|should|shall|have to|has to|need to|needs to)\\b");
    return opener.matches(sentence) || obligation.matches(sentence);
}

RuleResult ruleDescriptiveRatio(std::string_view text, double min_ratio) {
    if (emptyText(text)) return emptyResult();
    RuleResult r;
    size_t descriptive = 0;
    std::vector<std::string> directive;
    for (const auto& s : splitSentences(text)) {
        if (isDirectiveSentence(s)) {
            directive.push_back(s);
        } else {
            ++descriptive;
        }
    }
    if (directive.empty()) {
        r.value = 1.0;
        r.reason = std::to_string(descriptive) + " descriptive, 0 directive sentences";
        return r;
    }
    const double ratio = static_cast<double>(descriptive) / static_cast<double>(directive.size());
    r.value = min_ratio <= 0 ? 1.0 : std::min(1.0, ratio / min_ratio);
    if (r.value < 1.0) r.failing = directive;
    r.reason = std::to_string(descriptive) + " descriptive : " + std::to_string(directive.size()) +
               " directive sentences (ratio " + std::to_string(ratio) + ", needs " +
               std::to_string(min_ratio) + ")";
    return r;
}

RuleResult ruleNoSecondPerson(std::string_view text) {
    static const Regex you(
        "\\b(?:you|your|yours|yourself|yourselves|you're|you'll|you've|"
        "you'd|y'all)\\b");
    return sentenceFraction(text, you, "in the second person");
}

RuleResult rulePositiveWording(std::string_view text) {
    static const Regex prohibitive(
        "\\b(?:don't|do not|never|must not|mustn't|should not|shouldn't|cannot|can't|avoid|"
        "forbidden|prohibited|not allowed)\\b");
    return sentenceFraction(text, prohibitive, "with prohibitive wording");
}

RuleResult ruleWordsInclude(std::string_view text, const std::vector<std::string>& words) {
    if (emptyText(text)) return emptyResult();
    RuleResult r;
    size_t present = 0;
    for (const auto& w : words) {
        if (wordRegex(w).matches(text)) {
            ++present;
        } else {
            r.failing.push_back(w);
        }
    }
    r.value =
        words.empty() ? 1.0 : static_cast<double>(present) / static_cast<double>(words.size());
    r.reason =
        std::to_string(present) + " of " + std::to_string(words.size()) + " required words present";
    return r;
}

RuleResult ruleWordsExclude(std::string_view text, const std::vector<std::string>& words) {
    if (emptyText(text)) return emptyResult();
    RuleResult r;
    size_t present = 0;
    const auto sentences = splitSentences(text);
    std::vector<bool> flagged(sentences.size(), false);
    for (const auto& w : words) {
        const Regex re = wordRegex(w);
        if (!re.matches(text)) continue;
        ++present;
        for (size_t i = 0; i < sentences.size(); ++i)
            if (!flagged[i] && re.matches(sentences[i])) flagged[i] = true;
    }
    for (size_t i = 0; i < sentences.size(); ++i)
        if (flagged[i]) r.failing.push_back(sentences[i]);
    r.value = words.empty()
                  ? 1.0
                  : 1.0 - static_cast<double>(present) / static_cast<double>(words.size());
    r.reason =
        std::to_string(present) + " of " + std::to_string(words.size()) + " forbidden words used";
    return r;
}

RuleResult evaluateRule(const RubricCriterion& c, std::string_view text) {
    if (c.rule == "sections") return ruleSections(text, c.sections);
    if (c.rule == "descriptive_ratio") return ruleDescriptiveRatio(text, c.min_ratio);
    if (c.rule == "no_second_person") return ruleNoSecondPerson(text);
    if (c.rule == "positive_wording") return rulePositiveWording(text);
    if (c.rule == "words_include") return ruleWordsInclude(text, c.words);
    if (c.rule == "words_exclude") return ruleWordsExclude(text, c.words);
    throw RewardError("rubric criterion \"" + c.name + "\": unknown rule \"" + c.rule + "\"");
}

}  // namespace reflab::reward
