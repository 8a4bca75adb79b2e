// Word-level diff of two completions (the Compare tab's same-prompt view): the texts split into
// words and the whitespace after each, aligned by a longest common subsequence of words.
#pragma once
#include <string>
#include <vector>

namespace reflab::analysis {

struct WordDiffPiece {
    enum Kind { Same, Removed /*only in a*/, Added /*only in b*/ } kind = Same;
    // Words with their trailing whitespace; consecutive pieces of one kind are merged.
    std::string text;
};

// Pieces in reading order; concatenating the Same and Added pieces gives `b` back, the Same and
// Removed pieces give `a` up to whitespace (words match whatever whitespace follows them; Same
// pieces carry b's). Texts longer than max_words words each are compared on their first
// max_words (the LCS table is max_words^2) and the rest follows as removed/added.
std::vector<WordDiffPiece> wordDiff(const std::string& a, const std::string& b,
                                    size_t max_words = 2000);

}  // namespace reflab::analysis
