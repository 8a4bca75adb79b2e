// Projection products (see linear.h).
#include "core/model/projection.h"

namespace reflab::model {

torch::Tensor projection(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
    return torch::nn::functional::linear(x, weight, bias);
}

}  // namespace reflab::model
