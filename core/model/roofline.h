// The machine's roofline, measured: matrix-product throughput for a dtype and memory
// bandwidth, so benchmarks can say how close a kernel runs to what the hardware allows.
#pragma once
#include <torch/types.h>

namespace reflab {

struct Roofline {
    double gemm_gflops = 0;    // best of repeated (n x n) @ (n x n) products in the dtype
    int64_t gemm_n = 0;        // that n (the JSON names the shape with the rate)
    double bandwidth_gbs = 0;  // best of repeated full reads of a large float32 buffer
};

// The best rate of repeated (m x k) @ (k x n) products in dtype on device, in GFLOP/s, after a
// warm-up: a model's own GEMM shape (the train bench uses the MLP's) next to the square one.
double measureGemmGflops(torch::Dtype dtype, torch::Device device, int64_t m, int64_t k, int64_t n,
                         double seconds = 0.25);

// Takes about `seconds` in all. On CUDA devices the work is synchronised before timing.
Roofline measureRoofline(torch::Dtype dtype, torch::Device device = torch::kCPU,
                         double seconds = 1.0);

}  // namespace reflab
