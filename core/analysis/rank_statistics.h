// How well a score separates two classes (correct / incorrect rollouts): the AUROC (the
// Mann-Whitney U over n_pos × n_neg, ties counted one half), its 95% interval (DeLong's
// closed-form variance, or a stratified bootstrap) and the point-biserial correlation. Scores
// that are NaN are left out.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace reflab::analysis {

// Values sorted once, with each class's members mapped to tie groups, so the AUROC of the
// sample and of each bootstrap resample is one sweep over the groups.
class RankedSample {
public:
    // labels[i]: 1 positive (correct), 0 negative; values and labels of equal length.
    RankedSample(const std::vector<double>& values, const std::vector<uint8_t>& labels);
    int64_t positives() const { return static_cast<int64_t>(m_pos_group.size()); }
    int64_t negatives() const { return static_cast<int64_t>(m_neg_group.size()); }
    // P(score of a positive > score of a negative) + ½ P(equal); none without both classes.
    std::optional<double> auroc() const;
    // Percentile 95% interval of the AUROC over `resamples` stratified bootstrap resamples
    // (positives and negatives each drawn with replacement, their counts kept), a pure function
    // of (sample, resamples, seed). None without both classes or with resamples < 2.
    std::optional<std::pair<double, double>> bootstrapInterval(int resamples, uint64_t seed) const;

private:
    std::vector<int32_t> m_pos_group, m_neg_group;  // tie group (rank order) of each member
    int32_t m_groups = 0;
};

// The scores of each class, each in ascending order and without NaN: the form in which samples
// are kept, merged (sliding windows) and measured without sorting them again.
struct SortedScores {
    std::vector<double> pos, neg;  // correct, incorrect
    void clear() {
        pos.clear();
        neg.clear();
    }
};

// The AUROC with DeLong's variance (DeLong, DeLong & Clarke-Pearson 1988), from one sweep over
// the tie groups of the two sorted classes: each positive's placement V10 (the share of
// negatives below it, ties one half), each negative's V01 (the share of positives above it),
// variance S10 / n_pos + S01 / n_neg with S the sample variances of the placements. The
// variance is none with fewer than two members in a class (no sample variance).
struct AurocEstimate {
    double auroc = 0;
    std::optional<double> variance;
};
std::optional<AurocEstimate> aurocDeLong(const SortedScores& s);
// The 95% interval auroc ± z_0.975 √variance, clipped to [0, 1].
std::pair<double, double> deLongInterval(const AurocEstimate& e);
// Pearson's r between the scores and their class (1 positive, 0 negative); none when the
// scores are all equal or a class is empty.
std::optional<double> pointBiserial(const SortedScores& s);

// Percentile of sorted values with linear interpolation between order statistics (numpy's
// default): q in [0, 1].
double percentileSorted(const std::vector<double>& sorted, double q);

}  // namespace reflab::analysis
