// The data-parallel cost benchmark (reflab-cli bench --what allreduce, run as N processes by
// scripts/launch.sh): Communicator::allReduceGradients on the gradients of a
// Qwen2.5-0.5B-shaped model (bf16 unless told otherwise), the sum the trainer takes before
// every optimizer update. Reports seconds per all-reduce and the gradient bytes per second.
// Not a test: numbers only.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "core/train/distributed.h"

namespace reflab::train {

struct AllReduceBenchOptions {
    std::string dtype = "bfloat16";
    int64_t repeats = 3;  // timed all-reduces after one warm-up
    int64_t bucket_mb = 25;
};

// Every rank calls it; the result is the same JSON on every rank (rank 0's timings).
nlohmann::json benchAllReduce(Communicator& comm, const AllReduceBenchOptions& options);

}  // namespace reflab::train
