// All-reduce of a 0.5B-parameter gradient between the ranks of a launch.
#include "core/train/allreduce_bench.h"

#include <algorithm>
#include <chrono>

#include "core/model/language_model.h"
#include "core/model/model_config.h"
#include "core/train/train_settings.h"

namespace reflab::train {

nlohmann::json benchAllReduce(Communicator& comm, const AllReduceBenchOptions& o) {
    using Clock = std::chrono::steady_clock;
    model::LoadOptions lo;
    lo.dtype = dtypeFromName(o.dtype);
    // Random weights: their values do not matter, their shapes (the gradients') do.
    const auto lm = model::LanguageModel::random(model::qwen25HalfBConfig(), lo, 1);
    const auto params = lm->parameters();
    int64_t n = 0;
    for (const auto& p : params) {
        p.mutable_grad() = torch::full_like(p, 1.0 + comm.rank());
        n += p.numel();
    }
    std::vector<double> times;
    for (int64_t k = 0; k <= o.repeats; ++k) {
        // Each rank starts together, so the time is the all-reduce's and not a late rank's.
        auto sync = torch::zeros({1}, torch::kFloat64);
        comm.allReduce(sync);
        const auto t0 = Clock::now();
        comm.allReduceGradients(params, o.bucket_mb << 20);
        const double s = std::chrono::duration<double>(Clock::now() - t0).count();
        if (k > 0) times.push_back(s);  // the first one allocates the buckets' pages
    }
    // Every gradient is now the sum over ranks of (1 + rank), repeated: check one element, so
    // a figure never comes from an all-reduce that did nothing.
    const double w = comm.worldSize();
    double expect = w * (w + 1) / 2;  // after the first all-reduce
    for (int64_t k = 1; k <= o.repeats; ++k) expect *= w;
    const double got = params.front().grad().reshape({-1})[0].item<double>();
    std::sort(times.begin(), times.end());
    auto t = torch::tensor(times, torch::kFloat64);
    comm.allReduce(t, ReduceOp::Max);  // the slowest rank's
    const double median = t[static_cast<int64_t>(times.size() / 2)].item<double>();
    const double bytes = static_cast<double>(n) * params.front().element_size();
    return {{"world_size", comm.worldSize()},
            {"parameters", n},
            {"dtype", o.dtype},
            {"gradient_bytes", bytes},
            {"bucket_mb", o.bucket_mb},
            {"seconds_median", median},
            {"seconds_min", t[0].item<double>()},
            {"gradient_gb_per_s", bytes / median / 1e9},
            {"check_element", got},
            {"check_expected", expect},
            {"check_ok", std::abs(got - expect) <= 1e-2 * expect}};
}

}  // namespace reflab::train
