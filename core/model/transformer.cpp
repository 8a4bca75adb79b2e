// The causal LM forward with and without KV cache (see transformer.h).
#include "core/model/transformer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <limits>
#include <optional>

#include "core/model/decode_kernels.h"
#include "core/model/projection.h"

namespace reflab::model {

KvCache KvCache::selectRows(const torch::Tensor& rows) const {
    KvCache out;
    out.length = length;
    out.capacity = capacity;
    out.valid = valid.index_select(0, rows);
    out.next_pos = next_pos.index_select(0, rows);
    for (const LayerCache& l : layers)
        out.layers.push_back({l.k.index_select(0, rows), l.v.index_select(0, rows)});
    return out;
}

DecoderImpl::DecoderImpl(const ModelConfig& c) {
    // Sparse gradient: a step touches a few hundred of the ~150k rows, and a dense (V, C) zero
    // tensor per backward (272 MB for a 0.5B Qwen) cost more time and peak memory than the rows.
    embed_tokens = register_module(
        "embed_tokens", torch::nn::Embedding(
                            torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size).sparse(true)));
    layers = register_module("layers", torch::nn::ModuleList());
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        layer_list.push_back(DecoderLayer(c));
        layers->push_back(layer_list.back());
    }
    norm = register_module("norm", RmsNorm(c.hidden_size, c.rms_norm_eps));
}

TransformerImpl::TransformerImpl(const ModelConfig& c) : m_config(c) {
    model = register_module("model", Decoder(c));
    if (c.tie_word_embeddings) {
        lm_head = model->embed_tokens->weight;
    } else {
        auto head = register_module("lm_head", std::make_shared<torch::nn::Module>());
        lm_head = head->register_parameter("weight", torch::empty({c.vocab_size, c.hidden_size}));
    }
    // Not a buffer: Module::to(dtype) would round it to bf16; it stays float32 (see invFreq()).
    m_inv_freq = ropeInverseFrequencies(c);
}

const torch::Tensor& TransformerImpl::invFreq(const torch::Device& device) {
    if (m_inv_freq.device() != device) m_inv_freq = m_inv_freq.to(device);
    return m_inv_freq;
}

void TransformerImpl::initRandom(uint64_t seed, double std) {
    torch::NoGradGuard no_grad;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    for (auto& p : named_parameters()) {
        const std::string& name = p.key();
        torch::Tensor v = torch::empty(p.value().sizes(), torch::kFloat32);
        if (name.find("norm") != std::string::npos)
            v.fill_(1.0);
        else
            v.normal_(0, std, gen);
        p.value().copy_(v);
    }
}

namespace {
// One decoder layer whose activations are recomputed in backward (reentrant checkpointing):
// forward runs without a graph and saves the layer input and the attention inputs; backward
// runs the layer again with autograd on and back-propagates through it, which accumulates the
// layer's parameter gradients and yields the input's.
struct CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 DecoderLayerImpl* layer, const AttentionInputs* in) {
        ctx->save_for_backward({x});
        ctx->saved_data["layer"] = reinterpret_cast<int64_t>(layer);
        ctx->saved_data["cos"] = in->rope.cos;
        ctx->saved_data["sin"] = in->rope.sin;
        ctx->saved_data["bias"] = in->bias;
        ctx->saved_data["start"] = in->start;
        return layer->forward(x, *in, nullptr);  // autograd is off inside forward()
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        auto* layer = reinterpret_cast<DecoderLayerImpl*>(ctx->saved_data["layer"].toInt());
        AttentionInputs in;
        in.rope.cos = ctx->saved_data["cos"].toTensor();
        in.rope.sin = ctx->saved_data["sin"].toTensor();
        in.bias = ctx->saved_data["bias"].toTensor();
        in.start = ctx->saved_data["start"].toInt();
        torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
        torch::Tensor out;
        {
            torch::AutoGradMode grad_on(true);
            out = layer->forward(x, in, nullptr);
        }
        torch::autograd::backward({out}, {grads[0]});
        return {x.grad(), torch::Tensor(), torch::Tensor()};
    }
};
}  // namespace

torch::Tensor TransformerImpl::runLayers(torch::Tensor h, const AttentionInputs& in, KvCache* cache,
                                         const AttentionInputs* windowed) {
    const bool checkpoint =
        m_checkpoint_layers && !cache && torch::GradMode::is_enabled() && h.requires_grad();
    for (size_t i = 0; i < model->layer_list.size(); ++i) {
        const AttentionInputs* layer_in =
            windowed && m_config.windowOf(static_cast<int64_t>(i)) > 0 ? windowed : &in;
        if (checkpoint)
            h = CheckpointedLayer::apply(h, model->layer_list[i].get(), layer_in);
        else
            h = model->layer_list[i]->forward(h, *layer_in, cache ? &cache->layers[i] : nullptr);
    }
    return model->norm(h);
}

namespace {
// Additive mask (B, 1, 1, T, L) float32: query t (absolute position start + t) sees key j when
// j <= start + t and key j is a real token, and with a sliding `window` > 0 also
// j > start + t − window (HF's sliding_window_overlay). Slot distance is position distance:
// each row's real tokens are contiguous (left padding only). Masked entries get float's lowest
// value (not -inf) so a padding query with nothing to see yields a finite uniform row, as in HF.
torch::Tensor attentionBias(const torch::Tensor& key_valid, int64_t start, int64_t T,
                            int64_t window = 0) {
    const int64_t L = key_valid.size(1);
    auto opts = torch::TensorOptions().device(key_valid.device());
    torch::Tensor qpos = torch::arange(start, start + T, opts.dtype(torch::kInt64)).view({T, 1});
    torch::Tensor kpos = torch::arange(0, L, opts.dtype(torch::kInt64)).view({1, L});
    torch::Tensor seen = kpos <= qpos;
    if (window > 0) seen = seen & (kpos > qpos - window);
    torch::Tensor allowed = seen.unsqueeze(0) & key_valid.view({-1, 1, L});  // (B, T, L)
    torch::Tensor bias = torch::zeros(allowed.sizes(), opts.dtype(torch::kFloat32));
    bias.masked_fill_(allowed.logical_not(), std::numeric_limits<float>::lowest());
    return bias.view({-1, 1, 1, T, L});
}

// Position ids from a left-padding mask: cumsum - 1, padding slots set to 1 as HF does.
torch::Tensor positionsFromMask(const torch::Tensor& mask) {
    torch::Tensor pos = mask.to(torch::kInt64).cumsum(1) - 1;
    return pos.masked_fill(mask.logical_not(), 1);
}
}  // namespace

torch::Tensor TransformerImpl::hidden(const torch::Tensor& ids,
                                      const torch::Tensor& attention_mask) {
    const int64_t B = ids.size(0), T = ids.size(1);
    AttentionInputs in;
    torch::Tensor positions;
    if (attention_mask.defined()) {
        torch::Tensor valid = attention_mask.to(torch::kBool);
        positions = positionsFromMask(valid);
        in.bias = attentionBias(valid, 0, T);
    } else {
        positions = torch::arange(T, ids.options().dtype(torch::kInt64)).expand({B, T});
    }
    in.rope = ropeTables(positions, invFreq(ids.device()), lm_head.scalar_type());
    // The sliding layers' mask, when the sequence is longer than the window.
    std::optional<AttentionInputs> windowed;
    if (m_config.sliding_window > 0 && T > m_config.sliding_window) {
        windowed = in;
        const torch::Tensor valid = attention_mask.defined()
                                        ? attention_mask.to(torch::kBool)
                                        : torch::ones({B, T}, ids.options().dtype(torch::kBool));
        windowed->bias = attentionBias(valid, 0, T, m_config.sliding_window);
    }
    torch::Tensor h = model->embed_tokens(ids);  // (B, T, C)
    return runLayers(h, in, nullptr, windowed ? &*windowed : nullptr);
}

torch::Tensor TransformerImpl::hiddenCached(const torch::Tensor& ids,
                                            const torch::Tensor& attention_mask, KvCache& cache) {
    const int64_t T = ids.size(1);
    TORCH_CHECK(cache.length + T <= cache.capacity, "KV cache overflow: ", cache.length, " + ", T,
                " > ", cache.capacity);
    torch::Tensor valid = attention_mask.defined() ? attention_mask.to(torch::kBool)
                                                   : torch::ones_like(ids, torch::kBool);
    cache.valid.narrow(1, cache.length, T).copy_(valid);
    // Positions continue each row's count of real tokens.
    torch::Tensor positions = cache.next_pos.unsqueeze(1) + valid.to(torch::kInt64).cumsum(1) - 1;
    positions = positions.masked_fill(valid.logical_not(), 1);
    cache.next_pos = cache.next_pos + valid.to(torch::kInt64).sum(1);
    m_last_step_fused = T == 1 && fusedDecodeApplies(ids);
    if (m_last_step_fused) {
        const RopeTables rope = ropeTables(positions, invFreq(ids.device()), lm_head.scalar_type());
        DecodeInputs d;
        d.cos = rope.cos.reshape({ids.size(0), -1}).contiguous();  // (B, D)
        d.sin = rope.sin.reshape({ids.size(0), -1}).contiguous();
        d.key_valid = cache.valid.narrow(1, 0, cache.length + 1).contiguous();
        d.start = cache.length;
        // The sliding layers see the keys at slots > start − W only (HF's kv > q − W).
        const int64_t W = m_config.sliding_window;
        DecodeInputs dw = d;
        if (W > 0 && cache.length + 1 > W) {
            dw.key_valid = d.key_valid.clone();
            dw.key_valid.narrow(1, 0, cache.length + 1 - W).fill_(false);
        }
        torch::Tensor h = model->embed_tokens(ids.view({-1}));  // (B, C)
        for (size_t i = 0; i < model->layer_list.size(); ++i)
            h = model->layer_list[i]->decodeStep(
                h, m_config.windowOf(static_cast<int64_t>(i)) > 0 ? dw : d, cache.layers[i]);
        h = rmsNormRows(h, model->norm->weight, model->norm->eps());
        cache.length += 1;
        return h.unsqueeze(1);
    }
    AttentionInputs in;
    in.start = cache.length;
    in.rope = ropeTables(positions, invFreq(ids.device()), lm_head.scalar_type());
    in.bias = attentionBias(cache.valid.narrow(1, 0, cache.length + T), cache.length, T);
    std::optional<AttentionInputs> windowed;
    if (m_config.sliding_window > 0 && cache.length + T > m_config.sliding_window) {
        windowed = in;
        windowed->bias = attentionBias(cache.valid.narrow(1, 0, cache.length + T), cache.length, T,
                                       m_config.sliding_window);
    }
    torch::Tensor h = model->embed_tokens(ids);
    h = runLayers(h, in, &cache, windowed ? &*windowed : nullptr);
    cache.length += T;
    return h;
}

bool TransformerImpl::fusedDecodeApplies(const torch::Tensor& ids) const {
    return m_fused_decode && !torch::GradMode::is_enabled() && ids.device().is_cpu() &&
           lm_head.scalar_type() == torch::kBFloat16 && decodeKernelsAvailable() &&
           m_config.head_dim <= 256;
}

torch::Tensor TransformerImpl::logits(const torch::Tensor& hidden) {
    return projection(hidden, lm_head, {}).to(torch::kFloat32);
}

KvCache TransformerImpl::newCache(int64_t batch, int64_t capacity) const {
    KvCache c;
    c.capacity = capacity;
    auto opts = lm_head.options().requires_grad(false);
    for (int64_t i = 0; i < m_config.num_hidden_layers; ++i)
        c.layers.push_back(
            {torch::zeros({batch, m_config.num_key_value_heads, capacity, m_config.head_dim}, opts),
             torch::zeros({batch, m_config.num_key_value_heads, capacity, m_config.head_dim},
                          opts)});
    c.valid = torch::zeros({batch, capacity}, opts.dtype(torch::kBool));
    c.next_pos = torch::zeros({batch}, opts.dtype(torch::kInt64));
    return c;
}

}  // namespace reflab::model
