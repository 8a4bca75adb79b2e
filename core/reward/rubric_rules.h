// Rule ("check") criteria of the rubric component: computed from the text alone, each returns a
// value in [0,1] and why (the sentences or sections that failed). METHODS.md "rubric".
// Text is UTF-8; word matching is case-insensitive and Unicode-aware (PCRE2 with UCP).
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/reward/recipe.h"

namespace reflab::reward {

struct RuleResult {
    double value = 0;                  // in [0, 1]
    std::vector<std::string> failing;  // the sentences, sections or words at fault
    std::string reason;                // one line for the UI / --explain
    nlohmann::json toJson() const;
};

// Sentences: split after . ! ? (followed by whitespace or the end) and at line breaks;
// stripped; empty pieces dropped.
std::vector<std::string> splitSentences(std::string_view text);

// Each required section is present when a line is a heading naming it ("# Introduction",
// "**Introduction**", "Introduction:", "Introduction") or starts with "Introduction:".
// value = present / required; failing = the missing sections.
RuleResult ruleSections(std::string_view text, const std::vector<std::string>& sections);

// Directive sentence: starts with an imperative (a verb from a fixed list, "please", "do not",
// "never", "always") or holds an obligation ("must", "should", "have to", "need to"). value =
// min(1, (descriptive / directive) / min_ratio); with no directive sentence 1. failing = the
// directive sentences when value < 1.
RuleResult ruleDescriptiveRatio(std::string_view text, double min_ratio);
bool isDirectiveSentence(std::string_view sentence);

// value = 1 − (sentences with you/your/yours/yourself/yourselves/you're/…) / sentences.
RuleResult ruleNoSecondPerson(std::string_view text);

// value = 1 − (prohibitive sentences: don't, do not, never, must not, should not, cannot,
// can't, avoid, forbidden, prohibited, not allowed) / sentences.
RuleResult rulePositiveWording(std::string_view text);

// words_include: value = present / listed (failing: missing words); words_exclude: value =
// 1 − present / listed (failing: the sentences holding a listed word). Whole words/phrases.
RuleResult ruleWordsInclude(std::string_view text, const std::vector<std::string>& words);
RuleResult ruleWordsExclude(std::string_view text, const std::vector<std::string>& words);

// Dispatches on criterion.rule. Empty (whitespace-only) text scores 0 ("empty text").
RuleResult evaluateRule(const RubricCriterion& criterion, std::string_view text);

}  // namespace reflab::reward
