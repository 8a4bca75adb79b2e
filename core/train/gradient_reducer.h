// The gradient sum of data-parallel training (issue 18), overlapped with the backward as
// PyTorch's DistributedDataParallel does it: the parameters are cut into buckets in REVERSE
// parameter order (the order the backward completes them: the last layers first), and during
// the backward that completes the step's gradients a post-hook on each parameter's gradient
// accumulator marks it ready; a bucket whose members are all ready is copied into its float32
// buffer and its all-reduce starts at once, while the backward goes on with earlier layers.
// The first bucket holds at most 1 MiB (as DDP's), so the first all-reduce starts early in the
// backward; the others up to bucket_bytes. Buckets start strictly in bucket order, so every rank
// issues the same collectives in the same order whatever order its hooks fire in.
//
// The plan (which parameter sits where in which bucket) depends only on the parameters' shapes
// and the bucket size, never on which gradients exist or on timing, so the overlapped sum and
// the blocking one (reduceNow) are the same collectives on the same buffers: identical values.
// Each bucket carries one trailing flag per member (1 where this rank has a gradient), so a
// parameter no rank has a gradient for keeps none (the optimizer skips it, as one process
// would) without a collective of its own.
//
// Gradient accumulation over micro-batches: only the LAST backward completes the gradients, so
// only that one is armed; the earlier ones accumulate locally as before.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace torch::autograd {
struct Node;
}

namespace reflab::train {

class Communicator;

class GradientReducer {
public:
    // Hooks are registered on the parameters that require a gradient; they do nothing until
    // arm(). `comm` and the parameters must outlive the reducer.
    GradientReducer(Communicator& comm, std::vector<torch::Tensor> params,
                    int64_t bucket_bytes = 25 << 20);
    ~GradientReducer();  // removes the hooks
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;

    // Call before the backward after which the gradients are complete.
    void arm();
    // After that backward (or with no backward at all, on a rank with nothing to learn from):
    // starts the buckets not started yet, waits for every all-reduce and writes the sums into
    // the parameters' .grad. Disarms.
    void finish();
    // Blocking: arm() + finish() with no backward in between.
    void reduceNow();

    // Which bucket each parameter (by index in `params`) belongs to: the plan, for tests.
    std::vector<int64_t> bucketOfParameters() const;
    // How many buckets had started before finish() was called (the overlapped ones).
    int64_t startedDuringBackward() const { return m_started_early; }

private:
    struct Bucket {
        std::vector<size_t> members;  // parameter indices, in reverse parameter order
        std::vector<int64_t> offsets;
        int64_t elements = 0;  // gradient elements; + members.size() flags after them
        int64_t pending = 0;   // members not ready yet (armed only)
        torch::Tensor buffer;  // float32, on the parameters' device
    };
    void ready(size_t param);    // a member's gradient is complete: count it down
    void startReadyBuckets();    // every bucket from m_next on whose members are ready
    void start(Bucket& bucket);  // copy gradients + flags in, start its all-reduce
    void releaseHooks();

    Communicator& m_comm;
    std::vector<torch::Tensor> m_params;
    std::vector<Bucket> m_buckets;
    std::vector<int64_t> m_bucket_of;  // per parameter
    std::vector<bool> m_ready;         // per parameter, while armed
    std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> m_hooks;
    size_t m_next = 0;  // the next bucket to start
    bool m_armed = false;
    int64_t m_started_early = 0;
};

}  // namespace reflab::train
