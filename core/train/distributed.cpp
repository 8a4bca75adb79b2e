// c10d rendezvous and Gloo collectives for data-parallel training. The c10d headers need
// USE_C10D_GLOO, which core/CMakeLists.txt defines for this file alone when LibTorch ships
// ProcessGroupGloo (this file is compiled outside the precompiled header and unity batches),
// and, on a CUDA LibTorch with ProcessGroupNCCL and nccl.h, USE_C10D_NCCL (the CUDA gradients'
// group; not built nor run on this project's CPU machines so far).
#include "core/train/distributed.h"

#include <torch/utils.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "core/train/gradient_reducer.h"

#ifdef REFLAB_HAVE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef REFLAB_HAVE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace reflab::train {

namespace {

int64_t parseInteger(const std::string& text, const std::string& what) {
    size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size())
        throw TrainError(what + ": '" + text + "' is not an integer");
    return v;
}

std::chrono::milliseconds millis(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

std::string seconds(double s) {
    char b[32];
    std::snprintf(b, sizeof b, "%g s", s);
    return b;
}

}  // namespace

DistributedConfig distributedFromEnvironment(DistributedConfig c) {
    auto env = [](const char* name) -> const char* {
        const char* v = std::getenv(name);
        return v && *v ? v : nullptr;
    };
    if (const char* v = env("WORLD_SIZE"))
        c.world_size = static_cast<int>(parseInteger(v, "WORLD_SIZE"));
    if (const char* v = env("RANK")) c.rank = static_cast<int>(parseInteger(v, "RANK"));
    if (const char* v = env("LOCAL_RANK"))
        c.local_rank = static_cast<int>(parseInteger(v, "LOCAL_RANK"));
    if (const char* v = env("MASTER_ADDR")) c.master_addr = v;
    if (const char* v = env("MASTER_PORT"))
        c.master_port = static_cast<int>(parseInteger(v, "MASTER_PORT"));
    return c;
}

void validateDistributed(const DistributedConfig& c) {
    if (c.world_size < 1)
        throw TrainError("world size (WORLD_SIZE / --world-size) must be >= 1, got " +
                         std::to_string(c.world_size));
    if (c.rank < 0 || c.rank >= c.world_size)
        throw TrainError("rank (RANK / --rank) must be in [0, " + std::to_string(c.world_size) +
                         "), got " + std::to_string(c.rank));
    if (c.master_port < 1 || c.master_port > 65535)
        throw TrainError("master port (MASTER_PORT / --master) must be in 1..65535, got " +
                         std::to_string(c.master_port));
    if (c.master_addr.empty()) throw TrainError("master address (MASTER_ADDR / --master) is empty");
    if (c.connect_timeout_s <= 0 || c.op_timeout_s <= 0)
        throw TrainError("distributed timeouts must be > 0 seconds");
}

void parseMasterAddress(const std::string& text, DistributedConfig& c) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
        throw TrainError("--master: expected HOST:PORT, got '" + text + "'");
    c.master_addr = text.substr(0, colon);
    c.master_port = static_cast<int>(parseInteger(text.substr(colon + 1), "--master port"));
}

std::pair<int64_t, int64_t> groupShare(int64_t groups, int rank, int world_size) {
    const int64_t w = std::max(world_size, 1);
    return {groups * rank / w, groups * (rank + 1) / w};
}

std::vector<double> tensorChecksum(const std::vector<torch::Tensor>& tensors) {
    torch::NoGradGuard ng;
    double sum = 0, squares = 0, weighted = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto t = tensors[i].detach().to(torch::kCPU, torch::kFloat64);
        const double s = t.sum().item<double>();
        sum += s;
        squares += (t * t).sum().item<double>();
        weighted += static_cast<double>(i + 1) * s;
    }
    return {sum, squares, weighted};
}

#ifdef REFLAB_HAVE_C10D_GLOO

// c10d and Gloo log their failures through glog on stderr (a connect timeout, a closed peer)
// before throwing; the error we throw names what failed in one line, so while a group lives
// only fatal messages are printed.
class QuietGlog {
public:
#if defined(C10_USE_GLOG) && defined(REFLAB_HAVE_GLOG)
    QuietGlog() : m_saved(FLAGS_minloglevel) {
        FLAGS_minloglevel = google::GLOG_FATAL;
    }
    ~QuietGlog() {
        FLAGS_minloglevel = m_saved;
    }

private:
    int m_saved;
#endif
};

struct Communicator::Impl {
    QuietGlog quiet;  // first: it outlives the group's threads
    DistributedConfig config;
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    std::vector<c10::intrusive_ptr<c10d::Work>> pending;  // startAllReduce's, until waitAll
#ifdef REFLAB_HAVE_C10D_NCCL
    c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;  // CUDA tensors, after useCuda
#endif

    // f(group) on the group that carries `t`: NCCL for a CUDA tensor, else Gloo. (A template,
    // not a base class: ProcessGroup in LibTorch 1.x, Backend in 2.x.)
    template <class F>
    c10::intrusive_ptr<c10d::Work> on(const torch::Tensor& t, F&& f) {
        if (t.is_cuda()) {
#ifdef REFLAB_HAVE_C10D_NCCL
            if (nccl) return f(*nccl);
#endif
            throw TrainError("rank " + std::to_string(config.rank) +
                             ": a collective on a CUDA tensor without the NCCL group (useCuda)");
        }
        return f(*group);
    }

    // Waits for a collective; a failure of the group becomes a DistributedError.
    void run(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
        try {
            work->wait();
        } catch (const std::exception& e) {
            std::string msg = e.what();
            if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
            throw DistributedError("rank " + std::to_string(config.rank) + ": " + what +
                                   " failed: another process of the run stopped answering (" + msg +
                                   ")");
        }
    }
};

bool Communicator::available() {
    return true;
}

std::unique_ptr<Communicator> Communicator::connect(const DistributedConfig& config) {
    validateDistributed(config);
    auto impl = std::make_unique<Impl>();
    impl->config = config;
    const std::string where = config.master_addr + ":" + std::to_string(config.master_port);
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(config.master_port);
    so.isServer = config.rank == 0;
    so.numWorkers = static_cast<size_t>(config.world_size);
    so.waitWorkers = true;
    so.timeout = millis(config.connect_timeout_s);
    try {
        impl->store = c10::make_intrusive<c10d::TCPStore>(config.master_addr, so);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
        if (config.rank == 0)
            throw TrainError("rank 0: could not serve the rendezvous at " + where + " or not all " +
                             std::to_string(config.world_size) + " processes joined within " +
                             seconds(config.connect_timeout_s) + " (" + msg + ")");
        throw TrainError("rank " + std::to_string(config.rank) + ": cannot reach the master at " +
                         where + " within " + seconds(config.connect_timeout_s) + " (" + msg + ")");
    }
    impl->store->setTimeout(millis(config.op_timeout_s));
    auto options = c10d::ProcessGroupGloo::Options::create(millis(config.op_timeout_s));
    // The transport binds where the peers can reach it: GLOO_SOCKET_IFNAME when set (as in
    // torch.distributed), loopback for a master on this machine, else the host's address.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    const bool loopback = config.master_addr == "localhost" ||
                          config.master_addr.rfind("127.", 0) == 0 || config.master_addr == "::1";
    try {
        if (ifname && *ifname)
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
        else if (loopback)
            options->devices.push_back(
                c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
        else
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        options->threads = 2;
        impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, config.rank,
                                                                  config.world_size, options);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
        throw DistributedError("rank " + std::to_string(config.rank) +
                               ": could not connect the process group through " + where + " (" +
                               msg + ")");
    }
    return std::unique_ptr<Communicator>(new Communicator(std::move(impl)));
}

void Communicator::allReduce(torch::Tensor& tensor, ReduceOp op) {
    c10d::AllreduceOptions o;
    o.reduceOp = op == ReduceOp::Sum   ? c10d::ReduceOp::SUM
                 : op == ReduceOp::Max ? c10d::ReduceOp::MAX
                                       : c10d::ReduceOp::MIN;
    std::vector<torch::Tensor> ts{tensor};
    m->run(m->on(tensor, [&](auto& g) { return g.allreduce(ts, o); }), "all-reduce");
}

void Communicator::startAllReduce(const torch::Tensor& tensor) {
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    std::vector<torch::Tensor> ts{tensor};
    m->pending.push_back(m->on(tensor, [&](auto& g) { return g.allreduce(ts, o); }));
}

bool Communicator::ncclAvailable() {
#ifdef REFLAB_HAVE_C10D_NCCL
    return true;
#else
    return false;
#endif
}

void Communicator::useCuda(const torch::Device& device) {
#ifdef REFLAB_HAVE_C10D_NCCL
    if (m->nccl) return;
    // NCCL works on the current device; one GPU per rank.
    c10::cuda::set_device(device.has_index() ? device.index() : 0);
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = millis(m->config.op_timeout_s);
    try {
        // Its own key space in the rendezvous store: the Gloo group's keys stay apart.
        m->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(
            c10::make_intrusive<c10d::PrefixStore>("nccl", m->store), m->config.rank,
            m->config.world_size, options);
    } catch (const std::exception& e) {
        std::string msg = e.what();
        if (const auto nl = msg.find('\n'); nl != std::string::npos) msg.resize(nl);
        throw DistributedError("rank " + std::to_string(m->config.rank) +
                               ": could not create the NCCL group on " + device.str() + " (" + msg +
                               ")");
    }
#else
    throw TrainError("model.device " + device.str() + " with " +
                     std::to_string(m->config.world_size) +
                     " processes: this build has no NCCL (its LibTorch is not a CUDA build "
                     "with ProcessGroupNCCL); use model.device cpu (Gloo) or rebuild against a "
                     "CUDA LibTorch");
#endif
}

std::string Communicator::backend() const {
#ifdef REFLAB_HAVE_C10D_NCCL
    if (m->nccl) return "nccl+gloo";
#endif
    return "gloo";
}

void Communicator::waitAll() {
    auto pending = std::move(m->pending);
    m->pending.clear();
    std::exception_ptr first;
    for (const auto& work : pending) {
        try {
            m->run(work, "gradient all-reduce");
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

void Communicator::broadcast(std::string& bytes, int root) {
    auto size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64);
    c10d::BroadcastOptions o;
    o.rootRank = root;
    std::vector<torch::Tensor> ts{size};
    m->run(m->group->broadcast(ts, o), "broadcast");
    const int64_t n = size.item<int64_t>();
    auto data = torch::empty({std::max<int64_t>(n, 1)}, torch::kUInt8);
    if (m->config.rank == root) std::memcpy(data.data_ptr(), bytes.data(), bytes.size());
    std::vector<torch::Tensor> ds{data};
    m->run(m->group->broadcast(ds, o), "broadcast");
    bytes.assign(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(n));
}

std::vector<std::string> Communicator::gather(const std::string& bytes, int root) {
    const int w = m->config.world_size;
    // Sizes first (every rank learns the largest), then equal-sized padded buffers.
    auto sizes = torch::zeros({w}, torch::kInt64);
    sizes[m->config.rank] = static_cast<int64_t>(bytes.size());
    allReduce(sizes, ReduceOp::Sum);
    const int64_t longest = std::max<int64_t>(sizes.max().item<int64_t>(), 1);
    auto mine = torch::zeros({longest}, torch::kUInt8);
    std::memcpy(mine.data_ptr(), bytes.data(), bytes.size());
    std::vector<std::vector<torch::Tensor>> outputs;
    if (m->config.rank == root) {
        outputs.emplace_back();
        for (int r = 0; r < w; ++r) outputs[0].push_back(torch::empty({longest}, torch::kUInt8));
    }
    std::vector<torch::Tensor> inputs{mine};
    c10d::GatherOptions o;
    o.rootRank = root;
    m->run(m->group->gather(outputs, inputs, o), "gather");
    std::vector<std::string> out;
    if (m->config.rank != root) return out;
    for (int r = 0; r < w; ++r)
        out.emplace_back(static_cast<const char*>(outputs[0][r].data_ptr()),
                         static_cast<size_t>(sizes[r].item<int64_t>()));
    return out;
}

#else  // no c10d/Gloo in this LibTorch

struct Communicator::Impl {
    DistributedConfig config;
};

bool Communicator::available() {
    return false;
}

std::unique_ptr<Communicator> Communicator::connect(const DistributedConfig& config) {
    validateDistributed(config);
    throw TrainError("world size " + std::to_string(config.world_size) +
                     ": this build of reflab has no distributed training (its LibTorch lacks "
                     "c10d with Gloo; install libgloo-dev and rebuild)");
}

void Communicator::allReduce(torch::Tensor&, ReduceOp) {
    throw TrainError("no distributed training in this build");
}
void Communicator::broadcast(std::string&, int) {
    throw TrainError("no distributed training in this build");
}
std::vector<std::string> Communicator::gather(const std::string&, int) {
    throw TrainError("no distributed training in this build");
}
void Communicator::startAllReduce(const torch::Tensor&) {
    throw TrainError("no distributed training in this build");
}
void Communicator::waitAll() {}
bool Communicator::ncclAvailable() {
    return false;
}
void Communicator::useCuda(const torch::Device&) {
    throw TrainError("no distributed training in this build");
}
std::string Communicator::backend() const {
    return "none";
}

#endif

Communicator::Communicator(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Communicator::~Communicator() = default;

int Communicator::rank() const {
    return m->config.rank;
}
int Communicator::worldSize() const {
    return m->config.world_size;
}

void Communicator::allReduceGradients(const std::vector<torch::Tensor>& params,
                                      int64_t bucket_bytes) {
    GradientReducer(*this, params, bucket_bytes).reduceNow();
}

void Communicator::checkIdentical(const std::vector<double>& values, const std::string& what) {
    // max(v) and max(-v) = -min(v) in one all-reduce.
    const int64_t n = static_cast<int64_t>(values.size());
    auto t = torch::empty({2 * n}, torch::kFloat64);
    for (int64_t k = 0; k < n; ++k) {
        t[k] = values[k];
        t[n + k] = -values[k];
    }
    allReduce(t, ReduceOp::Max);
    for (int64_t k = 0; k < n; ++k) {
        const double hi = t[k].item<double>(), lo = -t[n + k].item<double>();
        if (hi != lo) {
            char b[160];
            std::snprintf(b, sizeof b, " differ between ranks (checksum %d: %.17g vs %.17g)",
                          static_cast<int>(k), lo, hi);
            throw DistributedError("rank " + std::to_string(rank()) + ": " + what + b);
        }
    }
}

}  // namespace reflab::train
