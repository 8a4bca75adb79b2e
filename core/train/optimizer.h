// AdamW over a model's parameters with fp32 master weights and fp32 state, whatever the
// model's dtype (METHODS.md, Algorithm; issue 6, Memory).
//
// fp32 model: the parameters are their own master weights.
// bf16 model: the fp32 master of each weight is its bf16 value (the high 16 bits of the fp32
//   pattern) plus a stored int16 tensor of the low 16 bits, so it costs 2 bytes per parameter,
//   not 4, and the model's bf16 weights are the master truncated (within 1 bf16 ulp). This keeps
//   a 0.5B model's weights + master + Adam m, v + bf16 grads near 7 GB (issue 6: < 8 GB peak).
// other dtypes (f16): a full fp32 master copy.
//
// The update is torch::optim::AdamW's (decoupled weight decay, bias-corrected moments, eps
// added to sqrt(v_hat)); tests/core/test_train_optimizer.cpp checks it step by step against
// torch::optim::AdamW. It is written out here because torch's needs fp32 .grad tensors
// alongside fp32 masters (4 more bytes per parameter) and this update works one parameter at a
// time from the model's own (bf16) gradients.
//
// Moments in bf16 (OptimizerOptions::moments = kBFloat16; the recipe's
// algorithm.optimizer_moments "bf16"): m and v are stored as bf16, rounded to nearest even after
// each update, which is computed in fp32 from them as above. 4 bytes per parameter instead of
// 8: what lets a 1.5B model train in 20 GB (README). The price: bf16 keeps 8 significant bits, so
// a moment's decay by beta2 = 0.999 (0.1%) is below half of its rounding step and is lost until a
// larger g^2 moves it; v then lags high where gradients shrink (smaller, safer steps).
//
// Not thread-safe; call from the training thread.
#pragma once
#include <torch/optim/adamw.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace reflab::train {

struct OptimizerOptions {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;   // decoupled: w -= lr * weight_decay * w
    double max_grad_norm = 1.0;  // clip the global L2 norm of the gradients; <= 0: no clipping
    torch::Dtype moments = torch::kFloat32;  // storage of Adam's m and v: kFloat32 | kBFloat16
};

struct OptimizerStepInfo {
    double grad_norm = 0.0;  // global L2 norm before clipping
    double clip_coef = 1.0;  // factor applied to the gradients (1 when not clipped)
};

class PolicyOptimizer {
public:
    // params: the model's trainable tensors (leaves with requires_grad), in a fixed order.
    PolicyOptimizer(std::vector<torch::Tensor> params, const OptimizerOptions& options);

    void zeroGrad();
    // Clips and applies one AdamW update with learning rate lr from the params' .grad (a param
    // without a grad is skipped, as torch does), then writes the masters back into the params.
    OptimizerStepInfo step(double lr);

    int64_t stepCount() const { return m_step; }
    bool hasMasterCopy() const;  // true for non-fp32 params
    // The fp32 master value of parameter i (a new tensor for bf16/f16; the param for fp32).
    torch::Tensor masterWeight(size_t i) const;

    torch::Dtype momentsDtype() const { return m_options.moments; }

    // Saves / restores step count, Adam moments (in their storage dtype) and the master low bits
    // under prefix "opt/". load() throws TrainError naming the entry when the archive does not
    // fit these params; moments saved in the other dtype are converted (fp32 -> bf16 rounds).
    void save(torch::serialize::OutputArchive& archive) const;
    void load(torch::serialize::InputArchive& archive);

private:
    enum class Master { Self, LowBits, Copy };
    std::vector<torch::Tensor> m_params;
    std::vector<Master> m_kind;
    std::vector<torch::Tensor>
        m_master;  // LowBits: int16 low halves; Copy: fp32 copy; Self: undefined
    std::vector<torch::Tensor> m_exp_avg, m_exp_avg_sq;  // options.moments, at the first step
    OptimizerOptions m_options;
    int64_t m_step = 0;
};

}  // namespace reflab::train
