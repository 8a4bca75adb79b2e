// core/train/optimizer: AdamW with fp32 masters against a hand-computed step and against
// torch::optim::AdamW (the independent reference), for fp32 and bf16 parameters; bf16 moments
// against the AdamW formula written here in torch ops; save/load.
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
    // bf16 moments (algorithm.optimizer_moments "bf16") against the AdamW formula written here in
    // plain torch ops: the update in fp32 from the stored moments, the new moments rounded to
    // bf16 (torch's float -> bfloat16 conversion rounds to nearest even) after each step. Eight
    // steps, weight decay and clipping on. bf16 parameters take the fused kernel (a tensor split
    // across threads and a small one); fp32 parameters take the chunked torch-op path.
    void bf16MomentsFollowTheRoundedFormula_data() {
        QTest::addColumn<int64_t>("rows");
        QTest::addColumn<bool>("bf16_params");
        QTest::newRow("bf16 8x5") << int64_t(8) << true;
        QTest::newRow("bf16 60000x5") << int64_t(60000) << true;
        QTest::newRow("fp32 300x5") << int64_t(300) << false;
    }
    void bf16MomentsFollowTheRoundedFormula() {
        QFETCH(int64_t, rows);
        QFETCH(bool, bf16_params);
        torch::manual_seed(11);
        const double lr = 2e-3, wd = 0.05, b1 = 0.9, b2 = 0.95, eps = 1e-8, max_norm = 20.0;
        const auto start = torch::randn({rows, 5});
        auto model =
            (bf16_params ? start.to(torch::kBFloat16) : start.clone()).requires_grad_(true);
        OptimizerOptions oo{b1, b2, eps, wd, max_norm};
        oo.moments = torch::kBFloat16;
        PolicyOptimizer opt({model}, oo);
        QCOMPARE(opt.momentsDtype(), torch::kBFloat16);
        // The reference state: fp32 master, moments kept as bf16 tensors between steps.
        auto w = model.detach().to(torch::kFloat32).clone();
        auto m = torch::zeros({rows, 5}, torch::kBFloat16);
        auto v = torch::zeros({rows, 5}, torch::kBFloat16);
        for (int t = 1; t <= 8; ++t) {
            const auto g16 = (torch::randn({rows, 5}) * (t % 3 + 1)).to(model.scalar_type());
            model.mutable_grad() = g16.clone();
            const auto info = opt.step(lr);
            auto g = g16.to(torch::kFloat32);
            const double norm = g.to(torch::kFloat64).norm().item<double>();
            QVERIFY(std::abs(info.grad_norm - norm) <= 1e-6 * norm);
            if (norm > max_norm) g = g * (max_norm / (norm + 1e-6));
            w = w * (1 - lr * wd);
            const auto m32 = m.to(torch::kFloat32) * b1 + g * (1 - b1);
            const auto v32 = v.to(torch::kFloat32) * b2 + g * g * (1 - b2);
            const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
            w = w - (lr / bc1) * m32 / (v32.sqrt() / std::sqrt(bc2) + eps);
            m = m32.to(torch::kBFloat16);
            v = v32.to(torch::kBFloat16);
        }
        const auto master = opt.masterWeight(0);
        QVERIFY2(torch::allclose(master, w, 1e-5, 1e-6),
                 qPrintable(QString::number((master - w).abs().max().item<double>())));
        // The stored moments are the rounded ones: read back from a saved state.
        std::ostringstream buf;
        {
            torch::serialize::OutputArchive ar;
            opt.save(ar);
            ar.save_to(buf);
        }
        std::istringstream in(buf.str());
        torch::serialize::InputArchive ar;
        ar.load_from(in);
        torch::Tensor sm, sv;
        ar.read("opt/exp_avg/0", sm);
        ar.read("opt/exp_avg_sq/0", sv);
        QCOMPARE(sm.scalar_type(), torch::kBFloat16);
        QCOMPARE(sv.scalar_type(), torch::kBFloat16);
        // Equal but where float arithmetic in another order lands on the other side of a
        // rounding boundary: then one bf16 step (2^-8 relative) apart, and rarely.
        auto within = [](const torch::Tensor& a, const torch::Tensor& b) {
            const auto fa = a.to(torch::kFloat32), fb = b.to(torch::kFloat32);
            const auto diff = (fa - fb).abs();
            const bool close = (diff <= fb.abs() * (1.0 / 128) + 1e-30).all().item<bool>();
            const double unequal = (diff > 0).to(torch::kFloat64).mean().item<double>();
            return close && unequal < 0.01;
        };
        QVERIFY(within(sm, m));
        QVERIFY(within(sv, v));
        if (bf16_params) {  // the model's weights are the master truncated
            const auto truncated =
                (master.view(torch::kInt32).bitwise_right_shift(16).to(torch::kInt16))
                    .view(torch::kBFloat16);
            QVERIFY(torch::equal(model.detach(), truncated));
        }
    }
    // The rounding is to nearest, ties to even, on values chosen at the boundaries: one step
    // with beta1 = 0 stores m = g (1 - 0) exactly as g's fp32 value rounded, computed here from
    // the bit patterns (0x3F80_8000 is halfway between 1 and 1 + 2^-7: ties to the even 1).
    void bf16MomentsRoundToNearestEven() {
        const std::vector<uint32_t> patterns = {0x3F808000u, 0x3F818000u, 0x3F808001u, 0x3F807FFFu,
                                                0xBF808000u};
        const std::vector<uint16_t> expected = {0x3F80, 0x3F82, 0x3F81, 0x3F80, 0xBF80};
        std::vector<float> values;
        for (uint32_t p : patterns) values.push_back(__builtin_bit_cast(float, p));
        auto w = torch::zeros({static_cast<int64_t>(values.size())}).requires_grad_(true);
        OptimizerOptions oo{0.0, 0.999, 1e-8, 0.0, 0.0};
        oo.moments = torch::kBFloat16;
        PolicyOptimizer opt({w}, oo);
        w.mutable_grad() = torch::tensor(values);
        opt.step(1e-3);
        std::ostringstream buf;
        {
            torch::serialize::OutputArchive ar;
            opt.save(ar);
            ar.save_to(buf);
        }
        std::istringstream in(buf.str());
        torch::serialize::InputArchive ar;
        ar.load_from(in);
        torch::Tensor sm;
        ar.read("opt/exp_avg/0", sm);
        for (size_t i = 0; i < expected.size(); ++i)
            QCOMPARE(sm.view(torch::kInt16)[static_cast<int64_t>(i)].item<int16_t>(),
                     static_cast<int16_t>(expected[i]));
    }
    // The fused kernel's rounding (a bf16 parameter) against torch's float -> bfloat16
    // conversion: after one step with beta1 = 0, m is g times the clipping coefficient, which
    // is not a power of two, so m's fp32 values use all 24 bits and land anywhere between two
    // bf16 values (200000 of them, ties included now and then).
    void bf16MomentsRoundToNearestEvenFused() {
        torch::manual_seed(13);
        const int64_t n = 200000;
        auto p = torch::zeros({n}, torch::kBFloat16).requires_grad_(true);
        OptimizerOptions oo{0.0, 0.999, 1e-8, 0.0, 1.0};
        oo.moments = torch::kBFloat16;
        PolicyOptimizer opt({p}, oo);
        const auto g16 = torch::randn({n}).to(torch::kBFloat16);
        p.mutable_grad() = g16.clone();
        const auto info = opt.step(1e-3);
        QVERIFY(info.clip_coef < 1.0);
        const auto m32 = g16.to(torch::kFloat32) * static_cast<float>(info.clip_coef);
        std::ostringstream buf;
        {
            torch::serialize::OutputArchive ar;
            opt.save(ar);
            ar.save_to(buf);
        }
        std::istringstream in(buf.str());
        torch::serialize::InputArchive ar;
        ar.load_from(in);
        torch::Tensor sm;
        ar.read("opt/exp_avg/0", sm);
        QVERIFY(torch::equal(sm, m32.to(torch::kBFloat16)));
    }
    // Checkpointed bf16 moments resume bit for bit; fp32 moments of an older checkpoint load
    // into a bf16-moment optimizer rounded.
    void bf16MomentsSaveLoadContinuesIdentically() {
        torch::manual_seed(17);
        OptimizerOptions oo;
        oo.moments = torch::kBFloat16;
        oo.weight_decay = 0.1;
        auto w1 = torch::randn({70000}).to(torch::kBFloat16).requires_grad_(true);
        PolicyOptimizer a({w1}, oo);
        std::vector<torch::Tensor> grads;
        for (int s = 0; s < 5; ++s) grads.push_back(torch::randn({70000}).to(torch::kBFloat16));
        for (int s = 0; s < 3; ++s) {
            w1.mutable_grad() = grads[s].clone();
            a.step(1e-2);
        }
        std::ostringstream buf;
        {
            torch::serialize::OutputArchive ar;
            a.save(ar);
            ar.save_to(buf);
        }
        auto w2 = w1.detach().clone().requires_grad_(true);
        PolicyOptimizer b({w2}, oo);
        {
            std::istringstream in(buf.str());
            torch::serialize::InputArchive ar;
            ar.load_from(in);
            b.load(ar);
        }
        for (int s = 3; s < 5; ++s) {
            w1.mutable_grad() = grads[s].clone();
            w2.mutable_grad() = grads[s].clone();
            a.step(1e-2);
            b.step(1e-2);
        }
        QVERIFY(torch::equal(w1, w2));
        QVERIFY(torch::equal(a.masterWeight(0), b.masterWeight(0)));

        // An fp32-moment state loaded into a bf16-moment optimizer: its moments rounded.
        auto w3 = torch::randn({9}).requires_grad_(true);
        PolicyOptimizer f32({w3}, {});
        w3.mutable_grad() = torch::randn({9});
        f32.step(1e-2);
        std::ostringstream buf32;
        {
            torch::serialize::OutputArchive ar;
            f32.save(ar);
            ar.save_to(buf32);
        }
        auto w4 = w3.detach().clone().requires_grad_(true);
        PolicyOptimizer b16({w4}, oo);
        std::istringstream in(buf32.str());
        torch::serialize::InputArchive ar;
        ar.load_from(in);
        b16.load(ar);
        torch::Tensor m32;
        ar.read("opt/exp_avg/0", m32);
        std::ostringstream again;
        {
            torch::serialize::OutputArchive out;
            b16.save(out);
            out.save_to(again);
        }
        std::istringstream in2(again.str());
        torch::serialize::InputArchive ar2;
        ar2.load_from(in2);
        torch::Tensor m16;
        ar2.read("opt/exp_avg/0", m16);
        QCOMPARE(m16.scalar_type(), torch::kBFloat16);
        QVERIFY(torch::equal(m16, m32.to(torch::kBFloat16)));
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
