// y = x W^T + b for the model's projections: the one place that decides how a matrix product
// is run (dtype-specific fast paths live behind it).
#pragma once
#include <utility>
#include <vector>

#include <torch/types.h>

namespace reflab::model {

// x (..., in), weight (out, in), bias (out) or undefined -> (..., out), in x's dtype.
torch::Tensor projection(const torch::Tensor& x, const torch::Tensor& weight,
                         const torch::Tensor& bias);

// The projections of one input (q/k/v, gate/up): weight i (N_i, in) and its bias (or nullptr)
// -> one (..., N_i) each. Decode steps run them in a single parallel pass.
std::vector<torch::Tensor> projectionMany(
    const torch::Tensor& x,
    const std::vector<std::pair<const torch::Tensor*, const torch::Tensor*>>& weights);

}  // namespace reflab::model
