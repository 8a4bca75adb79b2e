// The machine's roofline, measured: matrix-product throughput for a dtype and memory
// bandwidth, so benchmarks can say how close a kernel runs to what the hardware allows.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace reflab {

struct Roofline {
    double gemm_gflops = 0;          // the compute bound: the larger of the two rates below
    double gemm_dtype_gflops = 0;    // best of repeated (n x n) @ (n x n) products in the dtype
    double gemm_float32_gflops = 0;  // the same in float32 (CPU, other dtypes only; else 0)
    int64_t gemm_n = 0;              // that n (the JSON names the shape with the rate)
    double bandwidth_gbs = 0;        // the best of the read methods below
    // Every read method's best rate in GB/s (name, rate), in the order measured: a kernel can
    // only be held to the fastest way this machine can be read, so each way is tried.
    std::vector<std::pair<std::string, double>> bandwidth_methods;
    std::string bandwidth_method;  // the fastest of them
    int64_t bandwidth_buffer_bytes = 0;
    int intra_op_threads = 0;  // at::get_num_threads(): what the kernels' parallel_for uses
    int omp_threads = 0;       // omp_get_max_threads() on the measuring thread (0 without OpenMP)
};

// The best rate of repeated (m x k) @ (k x n) products in dtype on device, in GFLOP/s, after a
// warm-up: a model's own GEMM shape (the train bench uses the MLP's) next to the square one.
double measureGemmGflops(torch::Dtype dtype, torch::Device device, int64_t m, int64_t k, int64_t n,
                         double seconds = 0.25);

// The compute bound of a product in dtype: the larger of the dtype's own GEMM rate and, on a
// CPU for a dtype other than float32, the float32 rate. A bf16 product can always run as float32
// FMAs on widened values (the decode kernels do so on CPUs without AVX512-BF16, where torch's
// bf16 GEMM is emulated and several times slower than float32), so the slower emulated rate
// would be no roofline; on a CPU with AVX512-BF16 or AMX the bf16 rate is the larger.
struct GemmBound {
    double gflops = 0, dtype_gflops = 0, float32_gflops = 0;  // float32: 0 when not measured
};
GemmBound measureGemmBound(torch::Dtype dtype, torch::Device device, int64_t m, int64_t k,
                           int64_t n, double seconds = 0.25);

// Takes about `seconds` in all. On CUDA devices the work is synchronised before timing.
Roofline measureRoofline(torch::Dtype dtype, torch::Device device = torch::kCPU,
                         double seconds = 1.0);

}  // namespace reflab
