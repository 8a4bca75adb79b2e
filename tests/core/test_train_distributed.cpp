// core/train/distributed: the torchrun settings, the group share, and the collectives of two
// ranks (two threads of this process, each with its own TCPStore client and Gloo group over
// loopback) against sums written out by hand; rollouts packed for the gather come back equal.
#include <QtTest>

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "core/train/distributed.h"
#include "core/train/gradient_reducer.h"
#include "core/train/rollout_exchange.h"
#include "core/train/rollouts.h"
#include "tests/test_registry.h"

using namespace reflab::train;

// Named, not anonymous: the test files of a folder are compiled as unity batches.
namespace train_distributed {

int freePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Runs body(rank's communicator) on 2 threads; the first exception of either is rethrown.
void twoRanks(const std::function<void(Communicator&)>& body) {
    const int port = freePort();
    std::exception_ptr errors[2];
    std::vector<std::thread> threads;
    for (int r = 0; r < 2; ++r)
        threads.emplace_back([&, r] {
            try {
                DistributedConfig c;
                c.world_size = 2;
                c.rank = r;
                c.master_port = port;
                c.connect_timeout_s = 30;
                c.op_timeout_s = 30;
                auto comm = Communicator::connect(c);
                body(*comm);
            } catch (...) {
                errors[r] = std::current_exception();
            }
        });
    for (auto& t : threads) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace train_distributed
using namespace train_distributed;

class TestTrainDistributed : public QObject {
    Q_OBJECT
private slots:
    // 5 groups over 2 ranks: [0,2) and [2,5); over 3: [0,1) [1,3) [3,5); every group once.
    void groupShareIsWholeAndContiguous() {
        QCOMPARE(groupShare(5, 0, 2), (std::pair<int64_t, int64_t>(0, 2)));
        QCOMPARE(groupShare(5, 1, 2), (std::pair<int64_t, int64_t>(2, 5)));
        QCOMPARE(groupShare(5, 0, 3), (std::pair<int64_t, int64_t>(0, 1)));
        QCOMPARE(groupShare(5, 1, 3), (std::pair<int64_t, int64_t>(1, 3)));
        QCOMPARE(groupShare(5, 2, 3), (std::pair<int64_t, int64_t>(3, 5)));
        QCOMPARE(groupShare(4, 0, 1), (std::pair<int64_t, int64_t>(0, 4)));
    }

    void environmentAndFlags() {
        ::setenv("WORLD_SIZE", "4", 1);
        ::setenv("RANK", "3", 1);
        ::setenv("MASTER_ADDR", "10.0.0.7", 1);
        ::setenv("MASTER_PORT", "1234", 1);
        auto c = distributedFromEnvironment();
        QCOMPARE(c.world_size, 4);
        QCOMPARE(c.rank, 3);
        QCOMPARE(c.master_addr, std::string("10.0.0.7"));
        QCOMPARE(c.master_port, 1234);
        validateDistributed(c);
        ::setenv("RANK", "x1", 1);
        try {
            distributedFromEnvironment();
            QFAIL("no error for RANK=x1");
        } catch (const TrainError& e) {
            QVERIFY2(
                std::string(e.what()).find("RANK: 'x1' is not an integer") != std::string::npos,
                e.what());
        }
        for (const char* v : {"WORLD_SIZE", "RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(v);
        c = distributedFromEnvironment();
        QCOMPARE(c.world_size, 1);
        parseMasterAddress("node1:29501", c);
        QCOMPARE(c.master_addr, std::string("node1"));
        QCOMPARE(c.master_port, 29501);
        c.world_size = 2;
        c.rank = 2;
        QVERIFY_EXCEPTION_THROWN(validateDistributed(c), TrainError);
    }

    void collectivesOfTwoRanks() {
        if (!Communicator::available()) QSKIP("no c10d/Gloo in this build");
        std::vector<double> sums[2], maxes[2];
        std::vector<std::string> gathered[2];
        std::string broadcasted[2];
        twoRanks([&](Communicator& c) {
            const int r = c.rank();
            // rank 0 holds [1, 2.5], rank 1 holds [10, -4]: sum [11, -1.5], max [10, 2.5]
            auto t = r == 0 ? torch::tensor({1.0, 2.5}, torch::kFloat64)
                            : torch::tensor({10.0, -4.0}, torch::kFloat64);
            auto m = t.clone();
            c.allReduce(t, ReduceOp::Sum);
            c.allReduce(m, ReduceOp::Max);
            sums[r] = {t[0].item<double>(), t[1].item<double>()};
            maxes[r] = {m[0].item<double>(), m[1].item<double>()};
            gathered[r] = c.gather(r == 0 ? std::string("abc") : std::string("de\0f", 4));
            std::string b = r == 0 ? "from rank 0" : "";
            c.broadcast(b);
            broadcasted[r] = b;
        });
        for (int r = 0; r < 2; ++r) {
            QCOMPARE(sums[r], (std::vector<double>{11.0, -1.5}));
            QCOMPARE(maxes[r], (std::vector<double>{10.0, 2.5}));
            QCOMPARE(broadcasted[r], std::string("from rank 0"));
        }
        QCOMPARE(gathered[0], (std::vector<std::string>{"abc", std::string("de\0f", 4)}));
        QVERIFY(gathered[1].empty());
    }

    // Three parameters: a with grads on both ranks, b on rank 1 only, c on neither. A bucket of
    // 8 bytes holds 2 floats, so a (2 elements) and b (3) go in separate buckets.
    void gradientsAreSummedInBuckets() {
        if (!Communicator::available()) QSKIP("no c10d/Gloo in this build");
        std::vector<double> a_out[2], b_out[2];
        bool c_has[2] = {true, true};
        twoRanks([&](Communicator& comm) {
            const int r = comm.rank();
            auto a = torch::zeros({2}, torch::requires_grad());
            auto b = torch::zeros({3}, torch::requires_grad());
            auto c = torch::zeros({1}, torch::requires_grad());
            a.mutable_grad() = r == 0 ? torch::tensor({1.0f, 2.0f}) : torch::tensor({0.5f, -3.0f});
            if (r == 1) b.mutable_grad() = torch::tensor({4.0f, 5.0f, 6.0f});
            comm.allReduceGradients({a, b, c}, 8);
            for (int i = 0; i < 2; ++i) a_out[r].push_back(a.grad()[i].item<double>());
            for (int i = 0; i < 3; ++i) b_out[r].push_back(b.grad()[i].item<double>());
            c_has[r] = c.grad().defined();
        });
        for (int r = 0; r < 2; ++r) {
            QCOMPARE(a_out[r], (std::vector<double>{1.5, -1.0}));
            QCOMPARE(b_out[r], (std::vector<double>{4.0, 5.0, 6.0}));
            QVERIFY(!c_has[r]);
        }
    }

    // The overlapped sum: buckets of 2 floats in reverse parameter order put c, b and a in
    // buckets 0, 1 and 2. A first backward accumulates unarmed; the armed second one completes
    // the gradients and starts each bucket whose members its hooks saw. Rank 0 does not use b
    // in it, so only c's bucket starts during its backward (a's waits behind b's: buckets start
    // in order on every rank); rank 1 uses all three and starts all three.
    void overlappedBucketsStartDuringTheBackward() {
        if (!Communicator::available()) QSKIP("no c10d/Gloo in this build");
        std::vector<double> a_out[2], b_out[2], c_out[2];
        int64_t early[2] = {-1, -1};
        std::vector<int64_t> plan;
        twoRanks([&](Communicator& comm) {
            const int r = comm.rank();
            auto a = torch::zeros({2}, torch::requires_grad());
            auto b = torch::zeros({3}, torch::requires_grad());
            auto c = torch::zeros({1}, torch::requires_grad());
            GradientReducer reducer(comm, {a, b, c}, 8);
            if (r == 0) plan = reducer.bucketOfParameters();
            const auto ka1 = r == 0 ? torch::tensor({1.0f, 2.0f}) : torch::tensor({10.0f, 20.0f});
            (a * ka1).sum().backward();  // an earlier micro-batch
            reducer.arm();
            const auto ka2 = r == 0 ? torch::tensor({0.5f, 0.5f}) : torch::tensor({1.0f, 1.0f});
            const auto kc = r == 0 ? torch::tensor({3.0f}) : torch::tensor({-1.0f});
            auto loss = (a * ka2).sum() + (c * kc).sum();
            if (r == 1) loss = loss + (b * torch::tensor({4.0f, 5.0f, 6.0f})).sum();
            loss.backward();
            reducer.finish();
            early[r] = reducer.startedDuringBackward();
            for (int i = 0; i < 2; ++i) a_out[r].push_back(a.grad()[i].item<double>());
            for (int i = 0; i < 3; ++i) b_out[r].push_back(b.grad()[i].item<double>());
            c_out[r].push_back(c.grad()[0].item<double>());
        });
        QCOMPARE(plan, (std::vector<int64_t>{2, 1, 0}));
        QCOMPARE(early[0], int64_t(1));
        QCOMPARE(early[1], int64_t(3));
        for (int r = 0; r < 2; ++r) {
            // a: 1 + 0.5 + 10 + 1 and 2 + 0.5 + 20 + 1; b: rank 1's; c: 3 - 1.
            QCOMPARE(a_out[r], (std::vector<double>{12.5, 23.5}));
            QCOMPARE(b_out[r], (std::vector<double>{4.0, 5.0, 6.0}));
            QCOMPARE(c_out[r], (std::vector<double>{2.0}));
        }
    }

    void checksumsThatDifferAreAnError() {
        if (!Communicator::available()) QSKIP("no c10d/Gloo in this build");
        std::string errors[2];
        twoRanks([&](Communicator& comm) {
            const int r = comm.rank();
            comm.checkIdentical({1.0, 2.0}, "same");  // equal: no error
            try {
                comm.checkIdentical({1.0, r == 0 ? 2.0 : 2.5}, "the parameters");
            } catch (const DistributedError& e) {
                errors[r] = e.what();
            }
        });
        for (int r = 0; r < 2; ++r)
            QVERIFY2(errors[r].find("the parameters differ between ranks") != std::string::npos,
                     errors[r].c_str());
    }

    // The checksum sees a swap of two tensors (index-weighted) and any changed element.
    void checksumSeesSwapsAndChanges() {
        const auto x = torch::tensor({1.0f, 2.0f}), y = torch::tensor({4.0f});
        const auto base = tensorChecksum({x, y});
        // sum 7, squares 1 + 4 + 16 = 21, weighted 1*3 + 2*4 = 11 (swapped: 1*4 + 2*3 = 10)
        QCOMPARE(base, (std::vector<double>{7.0, 21.0, 11.0}));
        QVERIFY(tensorChecksum({y, x}) != base);
        QVERIFY(tensorChecksum({torch::tensor({1.0f, 2.5f}), y}) != base);
    }

    void rolloutsSurviveThePacking() {
        Rollout r;
        r.group = 1;
        r.prompt = 1;
        r.sample = 2;
        r.generation.tokens = {5, 9, 2};
        r.generation.logprobs = {-0.5f, -1.25f, -3.0f};
        r.generation.finish = reflab::model::FinishReason::Eos;
        r.generation.text = "<think>a</think><answer>4</answer><eos>";
        r.completion = "<think>a</think><answer>4</answer>";
        r.reward.total = 0.75;
        r.reward.format_valid = true;
        r.reward.components.push_back({"rlpr", 0.7, 1.0, {{"r_B", 0.7}}});
        r.advantage = -0.25;
        r.kept = false;
        r.policy_tokens = 2;
        r.guided = true;
        reflab::reward::Recipe recipe;
        recipe.templ.think = {"<think>", "</think>"};
        recipe.templ.answer = {"<answer>", "</answer>"};
        const auto back = unpackRollouts(packRollouts({r}, 3), recipe);
        QCOMPARE(back.size(), size_t(1));
        const auto& b = back[0];
        QCOMPARE(b.group, 4);  // 3 + 1: the step's global group
        QCOMPARE(b.prompt, size_t(4));
        QCOMPARE(b.sample, 2);
        QCOMPARE(b.generation.tokens, r.generation.tokens);
        QCOMPARE(b.generation.logprobs, r.generation.logprobs);
        QVERIFY(b.generation.finish == reflab::model::FinishReason::Eos);
        QCOMPARE(b.generation.text, r.generation.text);
        QCOMPARE(b.completion, r.completion);
        QCOMPARE(b.parsed.answer, std::string("4"));
        QCOMPARE(b.reward.total, 0.75);
        QVERIFY(b.reward.format_valid);
        QCOMPARE(b.reward.components.size(), size_t(1));
        QCOMPARE(b.reward.components[0].details["r_B"].get<double>(), 0.7);
        QCOMPARE(b.advantage, -0.25);
        QVERIFY(!b.kept && b.guided);
        QCOMPARE(b.policy_tokens, int64_t(2));
        QVERIFY_EXCEPTION_THROWN(unpackRollouts("\xc1garbage", recipe), TrainError);
    }
};

REFLAB_TEST_APPLESS(TestTrainDistributed);
#include "test_train_distributed.moc"
