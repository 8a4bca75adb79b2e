// AdamW with fp32 master weights (packed low bits for bf16) and fp32 or bf16 moments.
#include "core/train/optimizer.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

#include "core/train/adamw_bf16.h"
#include "core/train/train_error.h"

namespace reflab::train {

namespace {

// fp32 value of a bf16 tensor whose dropped low 16 bits are `low` (int16, same shape).
torch::Tensor joinBf16(const torch::Tensor& high_bf16, const torch::Tensor& low_i16) {
    const auto hi = high_bf16.view(torch::kInt16).to(torch::kInt32);
    const auto lo = low_i16.to(torch::kInt32).bitwise_and(0xFFFF);
    return hi.bitwise_left_shift(16).bitwise_or(lo).view(torch::kFloat32);
}

// Splits fp32 `value` into its high half (written into the bf16 `high_bf16`) and low half.
void splitBf16(const torch::Tensor& value, torch::Tensor& high_bf16, torch::Tensor& low_i16) {
    const auto bits = value.contiguous().view(torch::kInt32);
    high_bf16.view(torch::kInt16).copy_(bits.bitwise_right_shift(16).to(torch::kInt16));
    low_i16.copy_(bits.bitwise_and(0xFFFF).to(torch::kInt16));
}

}  // namespace

PolicyOptimizer::PolicyOptimizer(std::vector<torch::Tensor> params, const OptimizerOptions& options)
    : m_params(std::move(params)), m_options(options) {
    torch::NoGradGuard ng;
    if (m_options.moments != torch::kFloat32 && m_options.moments != torch::kBFloat16)
        throw TrainError("optimizer: moments must be float32 or bfloat16");
    for (auto& p : m_params) {
        if (!p.is_contiguous())
            throw TrainError("optimizer: parameter of shape " + c10::str(p.sizes()) +
                             " is not contiguous");
        if (p.scalar_type() == torch::kFloat32) {
            m_kind.push_back(Master::Self);
            m_master.emplace_back();
        } else if (p.scalar_type() == torch::kBFloat16) {
            m_kind.push_back(Master::LowBits);
            m_master.push_back(torch::zeros(p.sizes(), p.options().dtype(torch::kInt16)));
        } else {
            m_kind.push_back(Master::Copy);
            m_master.push_back(p.detach().to(torch::kFloat32).contiguous());
        }
    }
    m_exp_avg.resize(m_params.size());
    m_exp_avg_sq.resize(m_params.size());
}

bool PolicyOptimizer::hasMasterCopy() const {
    for (auto k : m_kind)
        if (k != Master::Self) return true;
    return false;
}

torch::Tensor PolicyOptimizer::masterWeight(size_t i) const {
    switch (m_kind.at(i)) {
        case Master::Self:
            return m_params[i].detach();
        case Master::LowBits:
            return joinBf16(m_params[i].detach(), m_master[i]);
        case Master::Copy:
            return m_master[i];
    }
    return {};
}

void PolicyOptimizer::zeroGrad() {
    for (auto& p : m_params)
        if (p.grad().defined()) p.mutable_grad() = torch::Tensor();  // frees, as set_to_none
}

OptimizerStepInfo PolicyOptimizer::step(double lr) {
    torch::NoGradGuard ng;
    OptimizerStepInfo info;
    // Everything below works on flat chunks of at most kChunk elements, so the fp32 temporaries
    // stay small next to a 136M-element embedding (a whole-tensor fp32 copy would be 0.5 GB).
    constexpr int64_t kChunk = int64_t(1) << 22;
    double sq = 0.0;
    for (auto& p : m_params) {
        if (!p.grad().defined()) continue;
        // The embedding's gradient is sparse (its rows of the step's tokens); AdamW moves every
        // row (decay, moments), so it is made dense here, one parameter at a time.
        if (p.grad().is_sparse()) p.mutable_grad() = p.grad().to_dense();
        if (p.grad().device().is_cpu()) {
            sq += squaredNorm(p.grad());  // one pass, no fp32 temporaries
            continue;
        }
        const auto g = p.grad().reshape({-1});
        for (int64_t a = 0; a < g.numel(); a += kChunk)
            sq += g.slice(0, a, std::min(g.numel(), a + kChunk))
                      .to(torch::kFloat32)
                      .pow(2)
                      .sum()
                      .item<double>();
    }
    info.grad_norm = std::sqrt(sq);
    if (!std::isfinite(info.grad_norm))
        throw TrainError("optimizer: the gradient norm is not finite at step " +
                         std::to_string(m_step + 1) + " (the loss diverged)");
    if (m_options.max_grad_norm > 0 && info.grad_norm > m_options.max_grad_norm)
        info.clip_coef =
            m_options.max_grad_norm / (info.grad_norm + 1e-6);  // torch's clip_grad_norm_

    ++m_step;
    const double b1 = m_options.beta1, b2 = m_options.beta2;
    const double bc1 = 1.0 - std::pow(b1, static_cast<double>(m_step));
    const double bc2 = 1.0 - std::pow(b2, static_cast<double>(m_step));
    const double step_size = lr / bc1;
    const double bc2_sqrt = std::sqrt(bc2);
    for (size_t i = 0; i < m_params.size(); ++i) {
        auto& p = m_params[i];
        if (!p.grad().defined()) continue;
        if (!m_exp_avg[i].defined()) {
            m_exp_avg[i] = torch::zeros(p.sizes(), p.options().dtype(m_options.moments));
            m_exp_avg_sq[i] = torch::zeros(p.sizes(), p.options().dtype(m_options.moments));
        }
        if (m_kind[i] == Master::LowBits && p.device().is_cpu()) {  // the default: one fused pass
            AdamWScalars sc;
            sc.decay = static_cast<float>(1.0 - lr * m_options.weight_decay);
            sc.beta1 = static_cast<float>(b1);
            sc.one_minus_beta1 = static_cast<float>(1.0 - b1);
            sc.beta2 = static_cast<float>(b2);
            sc.one_minus_beta2 = static_cast<float>(1.0 - b2);
            sc.bias_correction2_sqrt = static_cast<float>(bc2_sqrt);
            sc.eps = static_cast<float>(m_options.eps);
            sc.neg_step_size = static_cast<float>(-step_size);
            sc.grad_scale = static_cast<float>(info.clip_coef);
            torch::Tensor data = p.detach(), grad = p.grad().contiguous();
            adamwBf16LowBits(data, m_master[i], grad, m_exp_avg[i], m_exp_avg_sq[i], sc);
            continue;
        }
        const auto grad = p.grad().reshape({-1});
        auto data = p.detach().view({-1});
        auto m1 = m_exp_avg[i].view({-1});
        auto m2 = m_exp_avg_sq[i].view({-1});
        auto master = m_master[i].defined() ? m_master[i].view({-1}) : torch::Tensor();
        const int64_t n = data.numel();
        for (int64_t a = 0; a < n; a += kChunk) {
            const int64_t b = std::min(n, a + kChunk);
            auto g = grad.slice(0, a, b).to(torch::kFloat32);
            if (info.clip_coef != 1.0) g.mul_(info.clip_coef);
            auto hi = data.slice(0, a, b);
            torch::Tensor w;  // the fp32 master chunk, updated in place
            switch (m_kind[i]) {
                case Master::Self:
                    w = hi;
                    break;
                case Master::LowBits:
                    w = joinBf16(hi, master.slice(0, a, b));
                    break;
                case Master::Copy:
                    w = master.slice(0, a, b);
                    break;
            }
            // bf16 moments are widened for the update and rounded back after it (copy_).
            auto ea_stored = m1.slice(0, a, b), eas_stored = m2.slice(0, a, b);
            const bool bf16_moments = ea_stored.scalar_type() != torch::kFloat32;
            auto ea = bf16_moments ? ea_stored.to(torch::kFloat32) : ea_stored;
            auto eas = bf16_moments ? eas_stored.to(torch::kFloat32) : eas_stored;
            // torch::optim::AdamW, in its order: decay, moments, denom, update.
            w.mul_(1.0 - lr * m_options.weight_decay);
            ea.mul_(b1).add_(g, 1.0 - b1);
            eas.mul_(b2).addcmul_(g, g, 1.0 - b2);
            const auto denom = (eas.sqrt() / bc2_sqrt).add_(m_options.eps);
            w.addcdiv_(ea, denom, -step_size);
            if (bf16_moments) {
                ea_stored.copy_(ea);
                eas_stored.copy_(eas);
            }
            if (m_kind[i] == Master::LowBits) {
                auto lo = master.slice(0, a, b);
                splitBf16(w, hi, lo);
            } else if (m_kind[i] == Master::Copy) {
                hi.copy_(w);
            }
        }
    }
    return info;
}

void PolicyOptimizer::save(torch::serialize::OutputArchive& archive) const {
    archive.write("opt/step", torch::tensor(m_step, torch::kInt64));
    archive.write("opt/count", torch::tensor(static_cast<int64_t>(m_params.size()), torch::kInt64));
    for (size_t i = 0; i < m_params.size(); ++i) {
        const std::string k = std::to_string(i);
        if (m_master[i].defined()) archive.write("opt/master/" + k, m_master[i]);
        if (m_exp_avg[i].defined()) {
            archive.write("opt/exp_avg/" + k, m_exp_avg[i]);
            archive.write("opt/exp_avg_sq/" + k, m_exp_avg_sq[i]);
        }
    }
}

void PolicyOptimizer::load(torch::serialize::InputArchive& archive) {
    torch::NoGradGuard ng;
    torch::Tensor t;
    if (!archive.try_read("opt/count", t) ||
        t.item<int64_t>() != static_cast<int64_t>(m_params.size()))
        throw TrainError("optimizer state: opt/count does not match the model's " +
                         std::to_string(m_params.size()) + " parameters");
    archive.read("opt/step", t);
    m_step = t.item<int64_t>();
    for (size_t i = 0; i < m_params.size(); ++i) {
        const std::string k = std::to_string(i);
        auto check = [&](const torch::Tensor& v, const std::string& name,
                         std::initializer_list<torch::Dtype> dtypes) {
            const bool dtype_ok =
                std::find(dtypes.begin(), dtypes.end(), v.scalar_type()) != dtypes.end();
            if (v.sizes() != m_params[i].sizes() || !dtype_ok)
                throw TrainError("optimizer state: " + name + " has shape " + c10::str(v.sizes()) +
                                 " and dtype " + c10::toString(v.scalar_type()) + ", expected " +
                                 c10::str(m_params[i].sizes()));
        };
        if (m_master[i].defined()) {
            torch::Tensor v;
            if (!archive.try_read("opt/master/" + k, v))
                throw TrainError("optimizer state: opt/master/" + k + " is missing");
            check(v, "opt/master/" + k, {m_master[i].scalar_type()});
            m_master[i].copy_(v);
        }
        torch::Tensor a, b;
        if (archive.try_read("opt/exp_avg/" + k, a)) {
            if (!archive.try_read("opt/exp_avg_sq/" + k, b))
                throw TrainError("optimizer state: opt/exp_avg_sq/" + k + " is missing");
            check(a, "opt/exp_avg/" + k, {torch::kFloat32, torch::kBFloat16});
            check(b, "opt/exp_avg_sq/" + k, {torch::kFloat32, torch::kBFloat16});
            // In this optimizer's storage dtype (a checkpoint of the other setting converts).
            m_exp_avg[i] = a.to(m_options.moments, /*non_blocking=*/false, /*copy=*/true);
            m_exp_avg_sq[i] = b.to(m_options.moments, /*non_blocking=*/false, /*copy=*/true);
        } else {
            m_exp_avg[i] = torch::Tensor();
            m_exp_avg_sq[i] = torch::Tensor();
        }
    }
}

}  // namespace reflab::train
