// Debiased exponential moving average (TensorBoard's smoothing).
#include "ui/dashboard/ema_smoothing.h"

#include <algorithm>
#include <cmath>

namespace reflab::ui {

void DebiasedEma::setWeight(double weight) {
    m_weight = std::clamp(std::isfinite(weight) ? weight : 0.0, 0.0, 0.999);
    reset();
}

void DebiasedEma::reset() {
    m_last = 0.0;
    m_weightPow = 1.0;
    m_count = 0;
}

double DebiasedEma::push(double value) {
    if (!std::isfinite(value)) return value;
    m_last = m_last * m_weight + (1.0 - m_weight) * value;
    m_weightPow *= m_weight;
    ++m_count;
    // 1 - w^n is > 0 for every n >= 1 because w <= 0.999 (and exactly 1 when w = 0).
    return m_last / (1.0 - m_weightPow);
}

std::vector<double> debiasedEma(const std::vector<double>& values, double weight) {
    DebiasedEma ema(weight);
    std::vector<double> out;
    out.reserve(values.size());
    for (double v : values) out.push_back(ema.push(v));
    return out;
}

}  // namespace reflab::ui
