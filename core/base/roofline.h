// The machine's roofline, measured: matrix-product throughput for a dtype and memory
// bandwidth, so benchmarks can say how close a kernel runs to what the hardware allows.
#pragma once
#include <torch/torch.h>

namespace reflab {

struct Roofline {
    double gemm_gflops = 0;    // best of repeated (n x n) @ (n x n) products in the dtype
    double bandwidth_gbs = 0;  // best of repeated full reads of a large float32 buffer
};

// Takes about `seconds` in all. On CUDA devices the work is synchronised before timing.
Roofline measureRoofline(torch::Dtype dtype, torch::Device device = torch::kCPU, double seconds = 1.0);

}  // namespace reflab
