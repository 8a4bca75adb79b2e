// Summary statistics of a series of values (rewards, advantages, lengths), shared by the reward
// components, the advantage estimators and the step metrics so that each formula is written
// once. Plain loops in double precision, summing in order, so results are reproducible.
#pragma once
#include <utility>
#include <vector>

namespace reflab {

// Arithmetic mean; 0 for an empty series.
double mean(const std::vector<double>& xs);

// (mean, std) with std = sqrt(Σ (x − mean)² / (n − ddof)): ddof 0 is the population std (numpy's
// default), ddof 1 the sample std (torch.std's). (0, 0) for an empty series; std 0 when
// n <= ddof.
std::pair<double, double> meanStd(const std::vector<double>& xs, int ddof = 0);

// Leave-one-out advantages A_i = x_i − mean_{j≠i} x_j (RLOO); all 0 for fewer than two values
// (no baseline).
std::vector<double> rlooAdvantages(const std::vector<double>& xs);

}  // namespace reflab
