// Bucketed, backward-overlapped gradient all-reduce (see the header).
#include "core/train/gradient_reducer.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>

#include "core/train/distributed.h"
#include "core/train/train_error.h"

namespace reflab::train {

GradientReducer::GradientReducer(Communicator& comm, std::vector<torch::Tensor> params,
                                 int64_t bucket_bytes)
    : m_comm(comm),
      m_params(std::move(params)),
      m_bucket_of(m_params.size(), -1),
      m_ready(m_params.size(), false) {
    // Float32 elements per bucket. The first bucket is small (DDP's 1 MiB): its all-reduce
    // starts after the first few layers of the backward instead of a whole bucket's worth.
    const int64_t limit = std::max<int64_t>(bucket_bytes / 4, 1);
    const int64_t first_limit = std::max<int64_t>(std::min<int64_t>(bucket_bytes, 1 << 20) / 4, 1);
    // Reverse parameter order: the backward completes the last layers' gradients first.
    for (size_t k = m_params.size(); k-- > 0;) {
        const auto& p = m_params[k];
        if (!p.requires_grad()) continue;  // never has a gradient: in no bucket
        const int64_t n = p.numel();
        const int64_t cap = m_buckets.size() <= 1 ? first_limit : limit;
        if (m_buckets.empty() || m_buckets.back().elements + n > cap) m_buckets.emplace_back();
        Bucket& b = m_buckets.back();
        b.members.push_back(k);
        b.offsets.push_back(b.elements);
        b.elements += n;
        m_bucket_of[k] = static_cast<int64_t>(m_buckets.size() - 1);
    }
    // A post-hook of the gradient accumulator runs after the gradient was added into .grad.
    // The accumulator is held here: the parameter keeps only a weak reference to it, and a new
    // one would not carry the hook.
    for (size_t k = 0; k < m_params.size(); ++k) {
        if (m_bucket_of[k] < 0) continue;
        auto acc = torch::autograd::impl::grad_accumulator(m_params[k]);
        if (!acc) continue;  // not a leaf: the backward never completes it (finish() copies it)
        const uintptr_t key =
            acc->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
                [this, k](const torch::autograd::variable_list& outputs,
                          const torch::autograd::variable_list&) {
                    if (m_armed) ready(k);
                    return outputs;
                }));
        m_hooks.emplace_back(std::move(acc), key);
    }
}

GradientReducer::~GradientReducer() {
    releaseHooks();
    // A backward that threw after some buckets started: their all-reduces still write into the
    // buffers owned here, so wait for them (their failure was or will be reported elsewhere).
    if (m_armed && m_next > 0) {
        try {
            m_comm.waitAll();
        } catch (...) {
        }
    }
}

void GradientReducer::releaseHooks() {
    for (auto& [acc, key] : m_hooks) acc->del_post_hook(key);
    m_hooks.clear();
}

std::vector<int64_t> GradientReducer::bucketOfParameters() const {
    return m_bucket_of;
}

void GradientReducer::arm() {
    std::fill(m_ready.begin(), m_ready.end(), false);
    for (auto& b : m_buckets) b.pending = static_cast<int64_t>(b.members.size());
    m_next = 0;
    m_started_early = 0;
    m_armed = true;
}

void GradientReducer::ready(size_t k) {
    if (m_ready[k])
        // A parameter whose bucket may already be on the wire got more gradient: the sum would
        // miss it. Every rank has the same graph, so every rank stops here.
        throw TrainError("data-parallel gradient sum: parameter " + std::to_string(k) +
                         " accumulated its gradient twice in one backward");
    m_ready[k] = true;
    --m_buckets[static_cast<size_t>(m_bucket_of[k])].pending;
    startReadyBuckets();
}

void GradientReducer::startReadyBuckets() {
    while (m_next < m_buckets.size() && m_buckets[m_next].pending == 0) {
        start(m_buckets[m_next++]);
    }
}

void GradientReducer::start(Bucket& b) {
    torch::NoGradGuard ng;
    const auto& first = m_params[b.members.front()];
    const auto members = static_cast<int64_t>(b.members.size());
    if (!b.buffer.defined())
        b.buffer =
            torch::empty({b.elements + members},
                         torch::TensorOptions().dtype(torch::kFloat32).device(first.device()));
    auto flags = torch::zeros({members}, torch::kFloat32);
    for (int64_t j = 0; j < members; ++j) {
        const auto& p = m_params[b.members[static_cast<size_t>(j)]];
        auto part = b.buffer.narrow(0, b.offsets[static_cast<size_t>(j)], p.numel());
        if (p.grad().defined()) {
            part.copy_(p.grad().detach().reshape({-1}));  // to float32
            flags[j] = 1.0f;
        } else {
            part.zero_();  // no gradient on this rank: counts as zeros
        }
    }
    b.buffer.narrow(0, b.elements, members).copy_(flags);
    m_comm.startAllReduce(b.buffer);
}

void GradientReducer::finish() {
    if (!m_armed) arm();
    // Buckets some member of which the backward did not complete (no backward on this rank, an
    // unused parameter): their gradients are as final now as they will be.
    m_started_early = static_cast<int64_t>(m_next);  // by the hooks, during the backward
    while (m_next < m_buckets.size()) start(m_buckets[m_next++]);
    m_armed = false;
    m_comm.waitAll();
    torch::NoGradGuard ng;
    for (auto& b : m_buckets) {
        const auto members = static_cast<int64_t>(b.members.size());
        const auto flags = b.buffer.narrow(0, b.elements, members).to(torch::kCPU);
        const auto* any = flags.data_ptr<float>();
        for (int64_t j = 0; j < members; ++j) {
            if (any[j] == 0.0f) continue;  // no rank has a gradient: keep none
            auto& p = m_params[b.members[static_cast<size_t>(j)]];
            const auto part =
                b.buffer.narrow(0, b.offsets[static_cast<size_t>(j)], p.numel()).view(p.sizes());
            if (p.grad().defined())
                p.mutable_grad().copy_(part);
            else
                p.mutable_grad() = part.to(p.scalar_type()).clone();
        }
    }
}

void GradientReducer::reduceNow() {
    arm();
    finish();
}

}  // namespace reflab::train
