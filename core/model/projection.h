// y = x W^T + b for the model's projections: the one place that decides how a matrix product
// is run (dtype-specific fast paths live behind it).
#pragma once
#include <torch/torch.h>

namespace reflab::model {

// x (..., in), weight (out, in), bias (out) or undefined -> (..., out), in x's dtype.
torch::Tensor projection(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace reflab::model
