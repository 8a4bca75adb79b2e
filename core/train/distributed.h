// Data-parallel training across processes on PyTorch's c10d (issue 18): the torchrun-style
// settings (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT or the CLI's flags), the
// rendezvous (a TCPStore served by rank 0, with a connect timeout) and a Gloo process group with
// the few collectives the trainer needs. Built only where LibTorch has c10d and Gloo
// (REFLAB_HAVE_C10D_GLOO, set by core/CMakeLists.txt); elsewhere connect() throws one clear
// error and a world of one process trains as before.
//
// Every collective is blocking and CPU-side, except the gradient buckets' (GradientReducer:
// started during the backward, NCCL on a CUDA model). A failure of the group (a peer that died, a
// timeout) is a DistributedError, so the trainer can mark the run 'interrupted' (resumable)
// rather than 'failed'.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/train/train_error.h"

namespace reflab::train {

class DistributedError : public TrainError {
public:
    using TrainError::TrainError;
};

struct DistributedConfig {
    int world_size = 1;
    int rank = 0;
    int local_rank = 0;
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
    double connect_timeout_s = 60;  // rendezvous: a rank that cannot reach the master fails then
    double op_timeout_s = 1800;     // one collective (rank 0 evaluating keeps the others waiting)
    bool enabled() const { return world_size > 1; }
};

// The torchrun environment: WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (each
// optional; missing ones keep `defaults`). Throws TrainError naming the variable for a value
// that is not a number.
DistributedConfig distributedFromEnvironment(DistributedConfig defaults = {});
// Throws TrainError naming the field when the settings cannot describe a group (rank outside
// [0, world_size), port outside 1..65535, ...).
void validateDistributed(const DistributedConfig& config);
// "host:port" -> addr and port of config (the --master flag). Throws TrainError.
void parseMasterAddress(const std::string& text, DistributedConfig& config);

// The groups [begin, end) of `groups` that `rank` of `world_size` generates: contiguous, sizes
// differing by at most one, whole groups only (group statistics need the whole group).
std::pair<int64_t, int64_t> groupShare(int64_t groups, int rank, int world_size);

enum class ReduceOp { Sum, Max, Min };

// One process group. Not thread-safe: the training thread calls it, every rank in the same order.
class Communicator {
public:
    // True when this build has c10d with Gloo.
    static bool available();
    // Rendezvous and process group. Throws TrainError: no c10d in this build, an unreachable
    // master (naming address and timeout), a port rank 0 cannot bind, ranks missing at the
    // rendezvous.
    static std::unique_ptr<Communicator> connect(const DistributedConfig& config);
    ~Communicator();

    int rank() const;
    int worldSize() const;
    // A model on CUDA: from now on the collectives of CUDA tensors (the gradient buckets) run
    // on NCCL on `device`, a second process group beside Gloo's, which keeps the CPU-side ones
    // (settings, counts, rollouts, checksums). Every rank calls it at the same point. Throws
    // TrainError where this build has no NCCL (LibTorch without CUDA or ProcessGroupNCCL).
    void useCuda(const torch::Device& device);
    // True when this build has c10d's NCCL (a CUDA LibTorch; core/CMakeLists.txt).
    static bool ncclAvailable();
    // "gloo", or "nccl+gloo" after useCuda.
    std::string backend() const;

    // In place on a contiguous tensor (float32/float64/int64): Gloo on the CPU, NCCL for a
    // CUDA tensor after useCuda.
    void allReduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::Sum);
    // root's bytes to every rank (others' input is replaced).
    void broadcast(std::string& bytes, int root = 0);
    // Every rank's bytes, in rank order, on root; an empty vector elsewhere.
    std::vector<std::string> gather(const std::string& bytes, int root = 0);
    // A Sum all-reduce of `tensor` in place that returns at once (the tensor must stay alive
    // and untouched until waitAll()); the gradient buckets overlap the backward with it.
    void startAllReduce(const torch::Tensor& tensor);
    // Waits for every started all-reduce, in start order (all of them, even after a failure).
    void waitAll();
    // Sums the parameters' .grad over ranks, blocking: GradientReducer's float32 buckets of at
    // most bucket_bytes in reverse parameter order, one all-reduce per bucket. A parameter
    // without a grad on some rank counts as zeros there; one without a grad on every rank keeps
    // none (the optimizer then skips it, as a single process would).
    void allReduceGradients(const std::vector<torch::Tensor>& params,
                            int64_t bucket_bytes = 25 << 20);
    // Throws DistributedError when the values differ between ranks (the checksum of parameters
    // that data-parallel training must keep identical). `what` names them in the message.
    void checkIdentical(const std::vector<double>& values, const std::string& what);

private:
    struct Impl;
    explicit Communicator(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

// A checksum of tensors (sum and sum of squares in float64, per tensor index-weighted, so a
// swap of two tensors changes it too): the values Communicator::checkIdentical compares.
std::vector<double> tensorChecksum(const std::vector<torch::Tensor>& tensors);

}  // namespace reflab::train
