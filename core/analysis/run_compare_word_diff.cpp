// Word diff by LCS; see run_compare_word_diff.h.
#include "core/analysis/run_compare_word_diff.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

namespace reflab::analysis {

namespace {

bool isSpace(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

// Each word with the whitespace after it; leading whitespace is a word of its own.
std::vector<std::string> words(const std::string& s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
        size_t j = i;
        while (j < s.size() && !isSpace(s[j])) ++j;
        while (j < s.size() && isSpace(s[j])) ++j;
        out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

// Words compare without their trailing whitespace ("x\n" and "x " are the same word).
std::string_view core(const std::string& w) {
    size_t n = w.size();
    while (n > 0 && isSpace(w[n - 1])) --n;
    return std::string_view(w).substr(0, n);
}

void push(std::vector<WordDiffPiece>& out, WordDiffPiece::Kind kind, const std::string& text) {
    if (!out.empty() && out.back().kind == kind)
        out.back().text += text;
    else
        out.push_back({kind, text});
}

}  // namespace

std::vector<WordDiffPiece> wordDiff(const std::string& a, const std::string& b, size_t max_words) {
    const auto wa_all = words(a), wb_all = words(b);
    const size_t n = std::min(wa_all.size(), max_words), m = std::min(wb_all.size(), max_words);
    // lcs[i][j]: LCS length of the suffixes a[i..n), b[j..m).
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    const auto at = [m](size_t i, size_t j) { return i * (m + 1) + j; };
    for (size_t i = n; i-- > 0;)
        for (size_t j = m; j-- > 0;)
            lcs[at(i, j)] = core(wa_all[i]) == core(wb_all[j])
                                ? lcs[at(i + 1, j + 1)] + 1
                                : std::max(lcs[at(i + 1, j)], lcs[at(i, j + 1)]);
    std::vector<WordDiffPiece> out;
    size_t i = 0, j = 0;
    while (i < n && j < m) {
        if (core(wa_all[i]) == core(wb_all[j])) {
            push(out, WordDiffPiece::Same, wb_all[j]);
            ++i;
            ++j;
        } else if (lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            push(out, WordDiffPiece::Removed, wa_all[i++]);
        } else {
            push(out, WordDiffPiece::Added, wb_all[j++]);
        }
    }
    for (; i < wa_all.size(); ++i) push(out, WordDiffPiece::Removed, wa_all[i]);
    for (; j < wb_all.size(); ++j) push(out, WordDiffPiece::Added, wb_all[j]);
    return out;
}

}  // namespace reflab::analysis
