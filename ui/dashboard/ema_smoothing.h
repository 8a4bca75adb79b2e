// Debiased exponential moving average, the TensorBoard scalar-dashboard kind. Incremental, so a
// live series is smoothed as its points arrive without recomputing the whole history.
#pragma once
#include <cstdint>
#include <vector>

namespace reflab::ui {

// last_n = w * last_{n-1} + (1 - w) * x_n, last_0 = 0; smoothed_n = last_n / (1 - w^n), where n
// counts the finite points so far. Non-finite points pass through unchanged and do not advance
// the state (TensorBoard does the same). The weight is clamped to [0, 0.999]: at w = 1 the
// average would never move.
class DebiasedEma {
public:
    DebiasedEma() = default;
    explicit DebiasedEma(double weight) { setWeight(weight); }
    void setWeight(double weight);  // also resets the state
    double weight() const { return m_weight; }
    void reset();
    double push(double value);  // returns the smoothed value of this point

private:
    double m_weight = 0.0;
    double m_last = 0.0;
    double m_weightPow = 1.0;  // w^n, kept as a running product instead of pow() per point
    int64_t m_count = 0;
};

// The smoothed series of values[0, n) in one pass.
std::vector<double> debiasedEma(const std::vector<double>& values, double weight);

}  // namespace reflab::ui
