// A bf16 tensor's storage as raw 16-bit patterns (see core/base/bf16_bits.h), for kernels that
// read and write bf16 through their own loops. The caller checks dtype and contiguity.
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace reflab::model {

inline const uint16_t* bf16Data(const torch::Tensor& t) {
    return reinterpret_cast<const uint16_t*>(t.data_ptr());
}
inline uint16_t* mutableBf16Data(torch::Tensor& t) {
    return reinterpret_cast<uint16_t*>(t.data_ptr());
}

}  // namespace reflab::model
