// Rotary position embedding (see rope.h). The arithmetic follows transformers'
// modeling_rope_utils (default and llama3 types) and apply_rotary_pos_emb.
#include "core/model/rope.h"

#include <cmath>

namespace reflab::model {

torch::Tensor ropeInverseFrequencies(const ModelConfig& c) {
    const int64_t dim = c.head_dim;
    // 1 / base^(arange(0, D, 2) / D), computed in float32 like HF.
    torch::Tensor exponents =
        torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
    torch::Tensor inv_freq = 1.0 / torch::pow(c.rope_theta, exponents);
    if (!c.rope_scaling) return inv_freq;
    const RopeScaling& s = *c.rope_scaling;
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_freq_wavelen = old_len / s.low_freq_factor;
    const double high_freq_wavelen = old_len / s.high_freq_factor;
    torch::Tensor wavelen = 2 * M_PI / inv_freq;
    // Long wavelengths are divided by the factor, short ones kept, the middle band blended.
    torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
    torch::Tensor smooth =
        (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    torch::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    torch::Tensor medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
    return torch::where(medium, smoothed, scaled);
}

RopeTables ropeTables(const torch::Tensor& positions, const torch::Tensor& inv_freq,
                      torch::Dtype dtype) {
    // freqs (B, T, D/2) = positions * inv_freq, in float32
    torch::Tensor freqs = positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq.view({1, 1, -1});
    torch::Tensor emb = torch::cat({freqs, freqs}, -1);  // (B, T, D)
    return {emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1)};
}

}  // namespace reflab::model
