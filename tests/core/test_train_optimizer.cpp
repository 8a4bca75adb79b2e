// core/train/optimizer: AdamW with fp32 masters against a hand-computed step and against
// torch::optim::AdamW (the independent reference), for fp32 and bf16 parameters; save/load.
#include <torch/nn/utils/clip_grad.h>
#include <QtTest>

#include <cmath>
#include <sstream>

#include "core/train/optimizer.h"
#include "core/train/train_error.h"
#include "tests/test_registry.h"

using namespace reflab::train;

class TestTrainOptimizer : public QObject {
    Q_OBJECT
private slots:
    // w 1, g 0.5, lr 0.1, wd 0.01, betas (.9, .999), eps 1e-8, first step:
    //   decay: w = 1 * (1 - 0.1 * 0.01) = 0.999
    //   m = 0.1 * 0.5 = 0.05, v = 0.001 * 0.25 = 0.00025
    //   m_hat = 0.05 / 0.1 = 0.5, sqrt(v_hat) = sqrt(0.00025 / 0.001) = 0.5
    //   w = 0.999 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.899 (+2e-9)
    void firstStepByHand() {
        auto w = torch::tensor({1.0f}).requires_grad_(true);
        PolicyOptimizer opt({w}, {0.9, 0.999, 1e-8, 0.01, 0.0});
        w.mutable_grad() = torch::tensor({0.5f});
        const auto info = opt.step(0.1);
        QVERIFY(std::abs(info.grad_norm - 0.5) < 1e-7);
        QVERIFY(std::abs(w.item<double>() - (0.999 - 0.1 * 0.5 / (0.5 + 1e-8))) < 1e-6);
        QCOMPARE(opt.stepCount(), int64_t(1));
    }
    // Gradient [3, 4] has norm 5; max 1 scales it by 1 / (5 + 1e-6) (torch's clip_grad_norm_).
    void clipsTheGlobalNorm() {
        auto a = torch::zeros({1}).requires_grad_(true);
        auto b = torch::zeros({1}).requires_grad_(true);
        PolicyOptimizer opt({a, b}, {0.9, 0.999, 1e-8, 0.0, 1.0});
        a.mutable_grad() = torch::tensor({3.0f});
        b.mutable_grad() = torch::tensor({4.0f});
        const auto info = opt.step(0.1);
        QVERIFY(std::abs(info.grad_norm - 5.0) < 1e-6);
        QVERIFY(std::abs(info.clip_coef - 1.0 / (5.0 + 1e-6)) < 1e-9);
    }
    // fp32: five steps equal torch::optim::AdamW with clip_grad_norm_ before each step.
    void matchesTorchAdamWInFloat32() {
        torch::manual_seed(3);
        auto ours = torch::randn({4, 3}).requires_grad_(true);
        auto theirs = ours.detach().clone().requires_grad_(true);
        PolicyOptimizer opt({ours}, {0.9, 0.95, 1e-8, 0.1, 0.5});
        torch::optim::AdamW ref(
            {theirs},
            torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1));
        for (int s = 0; s < 5; ++s) {
            const auto g = torch::randn({4, 3});
            ours.mutable_grad() = g.clone();
            theirs.mutable_grad() = g.clone();
            const double lr = 1e-2 * (s + 1);
            opt.step(lr);
            static_cast<torch::optim::AdamWOptions&>(ref.param_groups()[0].options()).lr(lr);
            torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{theirs}, 0.5);
            ref.step();
            QVERIFY2(torch::allclose(ours, theirs, 1e-6, 1e-7),
                     qPrintable(QString("step %1 differs by %2")
                                    .arg(s)
                                    .arg((ours - theirs).abs().max().item<double>())));
        }
    }
    // bf16 params: the master (bf16 high half + stored low half) follows torch's fp32 AdamW fed
    // the same (bf16) gradients, and the model's weights are the master truncated to bf16.
    // Small (one thread) and large (split across threads, grad-norm clipping on) tensors.
    void bf16MasterFollowsFloat32AdamW_data() {
        QTest::addColumn<int64_t>("rows");
        QTest::addColumn<double>("max_grad_norm");
        QTest::newRow("8x5") << int64_t(8) << 0.0;
        QTest::newRow("60000x5 clipped") << int64_t(60000) << 10.0;
    }
    void bf16MasterFollowsFloat32AdamW() {
        QFETCH(int64_t, rows);
        QFETCH(double, max_grad_norm);
        torch::manual_seed(5);
        auto model = torch::randn({rows, 5}).to(torch::kBFloat16).requires_grad_(true);
        auto theirs = model.detach().to(torch::kFloat32).requires_grad_(true);
        PolicyOptimizer opt({model}, {0.9, 0.999, 1e-8, 0.01, max_grad_norm});
        QVERIFY(opt.hasMasterCopy());
        torch::optim::AdamW ref({theirs}, torch::optim::AdamWOptions(1e-3).weight_decay(0.01));
        for (int s = 0; s < 20; ++s) {
            const auto g = torch::randn({rows, 5}).to(torch::kBFloat16);
            model.mutable_grad() = g.clone();
            theirs.mutable_grad() = g.to(torch::kFloat32);
            const auto info = opt.step(1e-3);
            if (max_grad_norm > 0) {
                // The global norm against float64 arithmetic, then torch's clipping of theirs.
                const double norm = theirs.grad().to(torch::kFloat64).norm().item<double>();
                QVERIFY2(
                    std::abs(info.grad_norm - norm) <= 1e-6 * norm,
                    qPrintable(
                        QString("%1 vs %2").arg(info.grad_norm, 0, 'g', 12).arg(norm, 0, 'g', 12)));
                torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{theirs},
                                                  max_grad_norm);
            }
            ref.step();
        }
        const auto master = opt.masterWeight(0);
        QCOMPARE(master.scalar_type(), torch::kFloat32);
        QVERIFY2(torch::allclose(master, theirs, 1e-6, 1e-7),
                 qPrintable(QString::number((master - theirs).abs().max().item<double>())));
        // 20 steps of 1e-3 move the fp32 weights by ~2e-2: a bf16-only optimizer would lose
        // most steps (bf16 spacing near 1 is 7.8e-3); the truncated master must stay within 1 ulp.
        const auto truncated =
            (master.view(torch::kInt32).bitwise_right_shift(16).to(torch::kInt16))
                .view(torch::kBFloat16);
        QVERIFY(torch::equal(model.detach(), truncated));
    }
    void saveLoadRoundTripContinuesIdentically() {
        torch::manual_seed(7);
        auto w1 = torch::randn({6}).to(torch::kBFloat16).requires_grad_(true);
        PolicyOptimizer a({w1}, {});
        std::vector<torch::Tensor> grads;
        for (int s = 0; s < 4; ++s) grads.push_back(torch::randn({6}).to(torch::kBFloat16));
        for (int s = 0; s < 2; ++s) {
            w1.mutable_grad() = grads[s].clone();
            a.step(1e-2);
        }
        std::ostringstream buf;
        {
            torch::serialize::OutputArchive ar;
            a.save(ar);
            ar.save_to(buf);
        }
        // A fresh optimizer over a copy of the weights, loaded from the archive...
        auto w2 = w1.detach().clone().requires_grad_(true);
        PolicyOptimizer b({w2}, {});
        {
            std::istringstream in(buf.str());
            torch::serialize::InputArchive ar;
            ar.load_from(in);
            b.load(ar);
        }
        QCOMPARE(b.stepCount(), int64_t(2));
        QVERIFY(torch::equal(a.masterWeight(0), b.masterWeight(0)));
        // ...takes the same next steps bit for bit.
        for (int s = 2; s < 4; ++s) {
            w1.mutable_grad() = grads[s].clone();
            w2.mutable_grad() = grads[s].clone();
            a.step(1e-2);
            b.step(1e-2);
        }
        QVERIFY(torch::equal(w1, w2));
        QVERIFY(torch::equal(a.masterWeight(0), b.masterWeight(0)));
    }
    void loadRejectsOtherShapes() {
        auto w = torch::zeros({3}).requires_grad_(true);
        PolicyOptimizer a({w}, {});
        w.mutable_grad() = torch::ones({3});
        a.step(1e-2);
        std::ostringstream buf;
        torch::serialize::OutputArchive out;
        a.save(out);
        out.save_to(buf);
        auto other = torch::zeros({4}).requires_grad_(true);
        PolicyOptimizer b({other}, {});
        std::istringstream in(buf.str());
        torch::serialize::InputArchive ar;
        ar.load_from(in);
        QVERIFY_THROWS_EXCEPTION(TrainError, b.load(ar));
    }
    void divergedGradientIsAnError() {
        auto w = torch::zeros({2}).requires_grad_(true);
        PolicyOptimizer opt({w}, {});
        w.mutable_grad() = torch::tensor({1.0f, NAN});
        QVERIFY_THROWS_EXCEPTION(TrainError, opt.step(1e-3));
    }
};

REFLAB_TEST_APPLESS(TestTrainOptimizer);
#include "test_train_optimizer.moc"
