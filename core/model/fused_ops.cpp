// Fused element-wise ops with hand-written backward (see fused_ops.h).
#include "core/model/fused_ops.h"

#include "core/model/tensor_bits.h"

#include "core/model/bf16_matmul.h"
#include "core/model/exp_kernels.h"
#include "core/model/projection.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>

namespace reflab::model {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

namespace {

// Rounds a float to the storage type and back: the eager path's intermediate rounding points.
template <typename T>
inline float roundTo(float v) {
    return static_cast<float>(static_cast<T>(v));
}

constexpr int64_t kRowGrain = 16;  // rows per parallel task: each row is a few hundred values

bool needsGrad(const torch::Tensor& a, const torch::Tensor& b) {
    return torch::GradMode::is_enabled() && (a.requires_grad() || b.requires_grad());
}

bool bf16ExpKernels(const torch::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == torch::kBFloat16 && expKernelsAvailable();
}

bool fusable(const torch::Tensor& t) {
    return t.device().is_cpu() &&
           (t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kBFloat16);
}

// ---- RMSNorm -------------------------------------------------------------------------------

struct RmsNormFn : public torch::autograd::Function<RmsNormFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in,
                                 const torch::Tensor& w_in, double eps) {
        const torch::Tensor x = x_in.contiguous(), w = w_in.contiguous();
        const int64_t C = x.size(-1), R = x.numel() / C;
        torch::Tensor y = torch::empty_like(x);
        torch::Tensor rstd = torch::empty({R}, x.options().dtype(torch::kFloat32));
        AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "fusedRmsNorm", [&] {
            const scalar_t* xp = x.data_ptr<scalar_t>();
            const scalar_t* wp = w.data_ptr<scalar_t>();
            scalar_t* yp = y.data_ptr<scalar_t>();
            float* rp = rstd.data_ptr<float>();
            at::parallel_for(0, R, kRowGrain, [&](int64_t r0, int64_t r1) {
                for (int64_t r = r0; r < r1; ++r) {
                    const scalar_t* row = xp + r * C;
                    float sq = 0;
                    for (int64_t c = 0; c < C; ++c)
                        sq += static_cast<float>(row[c]) * static_cast<float>(row[c]);
                    const float s =
                        1.0f / std::sqrt(sq / static_cast<float>(C) + static_cast<float>(eps));
                    rp[r] = s;
                    for (int64_t c = 0; c < C; ++c)
                        yp[r * C + c] = static_cast<scalar_t>(
                            static_cast<float>(wp[c]) *
                            roundTo<scalar_t>(static_cast<float>(row[c]) * s));
                }
            });
        });
        ctx->save_for_backward({x, w, rstd});
        return y;
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &x = saved[0], &w = saved[1], &rstd = saved[2];
        const torch::Tensor gy = grads[0].contiguous();
        const int64_t C = x.size(-1), R = x.numel() / C;
        torch::Tensor gx = torch::empty_like(x);
        // dw = sum over rows of gy * n: per-thread float partial sums, added in a fixed order.
        const int64_t chunks = std::max<int64_t>(1, (R + kRowGrain - 1) / kRowGrain);
        torch::Tensor partial = torch::zeros({chunks, C}, x.options().dtype(torch::kFloat32));
        AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "fusedRmsNormBackward", [&] {
            const scalar_t* xp = x.data_ptr<scalar_t>();
            const scalar_t* wp = w.data_ptr<scalar_t>();
            const scalar_t* gp = gy.data_ptr<scalar_t>();
            const float* rp = rstd.data_ptr<float>();
            scalar_t* gxp = gx.data_ptr<scalar_t>();
            float* pp = partial.data_ptr<float>();
            at::parallel_for(0, chunks, 1, [&](int64_t c0, int64_t c1) {
                for (int64_t ch = c0; ch < c1; ++ch) {
                    float* dw = pp + ch * C;
                    for (int64_t r = ch * kRowGrain; r < std::min(R, (ch + 1) * kRowGrain); ++r) {
                        const float s = rp[r];
                        float dot = 0;  // sum_c (gy * w)_c * x_c
                        for (int64_t c = 0; c < C; ++c) {
                            const float xv = static_cast<float>(xp[r * C + c]);
                            const float g = static_cast<float>(gp[r * C + c]);
                            dw[c] += g * roundTo<scalar_t>(xv * s);
                            dot += g * static_cast<float>(wp[c]) * xv;
                        }
                        const float k = s * s * s * dot / static_cast<float>(C);
                        for (int64_t c = 0; c < C; ++c) {
                            const float dn =
                                static_cast<float>(gp[r * C + c]) * static_cast<float>(wp[c]);
                            gxp[r * C + c] = static_cast<scalar_t>(
                                s * dn - k * static_cast<float>(xp[r * C + c]));
                        }
                    }
                }
            });
        });
        return {gx, partial.sum(0).to(w.scalar_type()), torch::Tensor()};
    }
};

// ---- RoPE ----------------------------------------------------------------------------------

struct RopeFn : public torch::autograd::Function<RopeFn> {
    // sign = +1: forward rotation; -1: its transpose (the backward of the same tables).
    template <typename T>
    static void rotate(const T* x, const T* cos, const T* sin, T* y, int64_t BT, int64_t H,
                       int64_t D, bool transpose) {
        const int64_t half = D / 2;
        at::parallel_for(0, BT, kRowGrain, [&](int64_t p0, int64_t p1) {
            for (int64_t p = p0; p < p1; ++p) {
                const T* c = cos + p * D;
                const T* s = sin + p * D;
                for (int64_t h = 0; h < H; ++h) {
                    const T* xr = x + (p * H + h) * D;
                    T* yr = y + (p * H + h) * D;
                    for (int64_t d = 0; d < D; ++d) {
                        const float xv = static_cast<float>(xr[d]);
                        if (!transpose) {
                            const float rot = d < half ? -static_cast<float>(xr[d + half])
                                                       : static_cast<float>(xr[d - half]);
                            yr[d] = static_cast<T>(roundTo<T>(xv * static_cast<float>(c[d])) +
                                                   roundTo<T>(rot * static_cast<float>(s[d])));
                        } else {
                            // d/dx of y = x*cos + R x * sin: g*cos + R^T (g*sin).
                            const float rt = d < half ? static_cast<float>(xr[d + half]) *
                                                            static_cast<float>(s[d + half])
                                                      : -static_cast<float>(xr[d - half]) *
                                                            static_cast<float>(s[d - half]);
                            yr[d] = static_cast<T>(xv * static_cast<float>(c[d]) + rt);
                        }
                    }
                }
            }
        });
    }

    static torch::Tensor run(const torch::Tensor& x, const torch::Tensor& cos,
                             const torch::Tensor& sin, bool transpose) {
        const int64_t D = x.size(3), H = x.size(2), BT = x.size(0) * x.size(1);
        torch::Tensor y = torch::empty_like(x);
        AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, x.scalar_type(), "fusedRope", [&] {
            rotate<scalar_t>(x.data_ptr<scalar_t>(), cos.data_ptr<scalar_t>(),
                             sin.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), BT, H, D, transpose);
        });
        return y;
    }

    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& cos, const torch::Tensor& sin) {
        const torch::Tensor c = cos.contiguous(), s = sin.contiguous();
        ctx->save_for_backward({c, s});
        return run(x.contiguous(), c, s, false);
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        return {run(grads[0].contiguous(), saved[0], saved[1], true), torch::Tensor(),
                torch::Tensor()};
    }
};

// ---- SiLU-gated product ----------------------------------------------------------------------

// act = silu(gate) * up with HF's rounding points, gate and up contiguous.
torch::Tensor siluMulForward(const torch::Tensor& gate, const torch::Tensor& up) {
    if (bf16ExpKernels(gate)) {  // one pass, vector exp (exp_kernels.h)
        torch::Tensor y = torch::empty_like(gate);
        bf16SiluMul(bf16Data(gate), bf16Data(up), mutableBf16Data(y), gate.numel());
        return y;
    }
    // LibTorch's silu is vectorised (Sleef exp); callers run this with autograd off.
    return torch::silu(gate).mul_(up);
}

// d(act)/d(gate), d(act)/d(up) applied to the upstream gradient gy (all contiguous).
std::pair<torch::Tensor, torch::Tensor> siluMulBackward(const torch::Tensor& gate,
                                                        const torch::Tensor& up,
                                                        const torch::Tensor& gy) {
    torch::Tensor dgate = torch::empty_like(gate), dup = torch::empty_like(up);
    if (bf16ExpKernels(gate)) {
        bf16SiluMulBackward(bf16Data(gate), bf16Data(up), bf16Data(gy), mutableBf16Data(dgate),
                            mutableBf16Data(dup), gate.numel());
        return {dgate, dup};
    }
    const torch::Tensor sigmoid = gate.to(torch::kFloat32).sigmoid();  // vectorised exp
    const float* sp = sigmoid.data_ptr<float>();
    const int64_t n = gate.numel();
    AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, gate.scalar_type(), "fusedSiluMulBackward", [&] {
        const scalar_t* g = gate.data_ptr<scalar_t>();
        const scalar_t* u = up.data_ptr<scalar_t>();
        const scalar_t* gyp = gy.data_ptr<scalar_t>();
        scalar_t* dg = dgate.data_ptr<scalar_t>();
        scalar_t* du = dup.data_ptr<scalar_t>();
        at::parallel_for(0, n, 1 << 14, [&](int64_t a, int64_t b) {
            for (int64_t i = a; i < b; ++i) {
                const float gv = static_cast<float>(g[i]), dy = static_cast<float>(gyp[i]);
                const float sig = sp[i];
                du[i] = static_cast<scalar_t>(dy * roundTo<scalar_t>(gv * sig));
                dg[i] = static_cast<scalar_t>(dy * static_cast<float>(u[i]) * sig *
                                              (1.0f + gv * (1.0f - sig)));
            }
        });
    });
    return {dgate, dup};
}

struct SiluMulFn : public torch::autograd::Function<SiluMulFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate_in,
                                 const torch::Tensor& up_in) {
        const torch::Tensor gate = gate_in.contiguous(), up = up_in.contiguous();
        ctx->save_for_backward({gate, up});
        return siluMulForward(gate, up);
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        auto [dgate, dup] = siluMulBackward(saved[0], saved[1], grads[0].contiguous());
        return {dgate, dup};
    }
};

// (silu(gate) * up) W^T without keeping the product for backward: the down projection's
// weight gradient needs it, and recomputing it from gate and up (saved anyway for the SiLU's
// own gradient) is one cheap pass, while keeping it costs (tokens x intermediate) per layer:
// 120 MB of a 0.5B model's micro-batch of 512 tokens.
struct SiluMulDownFn : public torch::autograd::Function<SiluMulDownFn> {
    static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate_in,
                                 const torch::Tensor& up_in, const torch::Tensor& weight) {
        const torch::Tensor gate = gate_in.contiguous(), up = up_in.contiguous();
        ctx->save_for_backward({gate, up, weight});
        const int64_t F = gate.size(-1);
        const torch::Tensor act = siluMulForward(gate, up).view({-1, F});
        std::vector<int64_t> shape = gate.sizes().vec();
        shape.back() = weight.size(0);
        return matmulNt(act, weight).view(shape);  // widened where bf16 is not native
    }

    static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor &gate = saved[0], &up = saved[1], &weight = saved[2];
        const int64_t F = gate.size(-1), C = weight.size(0);
        const torch::Tensor gy = grads[0].contiguous().view({-1, C});  // (R, C)
        torch::Tensor grad_w;
        if (ctx->needs_input_grad(2)) {
            const torch::Tensor act = siluMulForward(gate, up).view({-1, F});
            grad_w = matmulTn(gy, act);  // (C, F)
        }
        torch::Tensor dgate, dup;
        if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1)) {
            const torch::Tensor gact = matmulNn(gy, weight).view(gate.sizes());  // (..., F)
            std::tie(dgate, dup) = siluMulBackward(gate, up, gact);
        }
        return {dgate, dup, grad_w};
    }
};

}  // namespace

torch::Tensor fusedRmsNorm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
    // Without a graph the eager ops' vectorised passes are faster than one scalar pass; the
    // fused op pays off where autograd would save every temporary.
    if (!fusable(x) || weight.scalar_type() != x.scalar_type() || !needsGrad(x, weight)) {
        torch::Tensor h = x.to(torch::kFloat32);
        h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
        return weight * h.to(x.scalar_type());
    }
    return RmsNormFn::apply(x, weight, eps);
}

torch::Tensor fusedRope(const torch::Tensor& x, const torch::Tensor& cos,
                        const torch::Tensor& sin) {
    if (!fusable(x) || cos.scalar_type() != x.scalar_type()) {
        const int64_t half = x.size(-1) / 2;
        torch::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
        torch::Tensor rotated = torch::cat({-x2, x1}, -1);
        return x * cos.unsqueeze(2) + rotated * sin.unsqueeze(2);
    }
    return RopeFn::apply(x, cos, sin);
}

torch::Tensor fusedSiluMul(const torch::Tensor& gate, const torch::Tensor& up) {
    if (!fusable(gate) || up.scalar_type() != gate.scalar_type() || !needsGrad(gate, up))
        return torch::silu(gate) * up;
    return SiluMulFn::apply(gate, up);
}

torch::Tensor fusedSiluMulProjection(const torch::Tensor& gate, const torch::Tensor& up,
                                     const torch::Tensor& weight, const torch::Tensor& bias) {
    const bool grad = torch::GradMode::is_enabled() &&
                      (gate.requires_grad() || up.requires_grad() || weight.requires_grad());
    if (!grad || bias.defined() || !fusable(gate) || up.scalar_type() != gate.scalar_type() ||
        weight.scalar_type() != gate.scalar_type())
        return projection(fusedSiluMul(gate, up), weight, bias);
    return SiluMulDownFn::apply(gate, up, weight);
}

}  // namespace reflab::model
