#!/usr/bin/env python3
"""Independent reference logits for the tiny test models (run once; outputs committed).

A plain PyTorch forward written from the math of Hugging Face's modeling_qwen2.py,
modeling_qwen3.py and modeling_llama.py (eager attention) and modeling_rope_utils.py (default
and llama3 RoPE): RMSNorm in float32 cast back before the weight, rotate-half RoPE with
float32 inverse frequencies, repeat_kv GQA, softmax in float32, SiLU-gated MLP. It reads the
safetensors files with its own parser and shares no code with RefLab's C++.

Writes, per model and compute dtype (float32, bfloat16), tests/data/models/golden/
<model>.<dtype>.bin: float32 little-endian logits of every sequence in golden.json, each
[T, V] row-major, concatenated in order; golden.json lists the sequences.
Also the variants of VARIANTS: a model's weights under a changed config (sliding-window
attention: HF's sliding_window_overlay, a key is seen when kv > q - W, in the layers from
max_window_layers on or those layer_types marks "sliding_attention"), float32 only.
Usage: python3 reference_forward.py [MODELS_DIR]
"""
import json
import math
import os
import struct
import sys

import torch

SEQUENCES = [
    [5, 17, 200, 33, 9, 301, 42],                      # 7 tokens
    [299, 1, 2, 3, 250, 251, 252, 100, 64, 64, 64, 7, 0, 319, 18, 30, 31, 77, 150, 298],  # 20 tokens
]
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
# name: (weights of, config.json changes); the C++ test writes the same config next to a copy.
VARIANTS = {
    "tiny-qwen2-sliding4": ("tiny-qwen2", {"use_sliding_window": True, "sliding_window": 4,
                                           "max_window_layers": 1}),
}
ST = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = bytearray(data[base + b:base + end])
        out[name] = torch.frombuffer(raw, dtype=ST[e["dtype"]]).reshape(e["shape"]).clone()
    return out


def load_weights(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    w = {}
    for fn in files:
        w.update(read_safetensors(os.path.join(d, fn)))
    return w


def rms_norm(x, weight, eps):
    dtype = x.dtype
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(dtype)


def inv_freq_of(cfg, dim):
    inv = 1.0 / (cfg.get("rope_theta", 10000.0) ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    rs = cfg.get("rope_scaling")
    if rs and rs.get("rope_type", rs.get("type")) == "llama3":
        factor, lf, hf = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / lf, old / hf
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - lf) / (hf - lf)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv = torch.where(medium, smoothed, inv_l)
    return inv


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def forward(cfg, w, ids, dtype):
    """ids: list of ints (one unpadded sequence) -> logits [T, V] float32."""
    w = {k: v.to(dtype) for k, v in w.items()}
    H, nh, nkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim") or H // nh
    eps = cfg["rms_norm_eps"]
    arch = cfg["model_type"]
    T = len(ids)
    x = w["model.embed_tokens.weight"][torch.tensor(ids)].unsqueeze(0)  # [1, T, H]
    pos = torch.arange(T).unsqueeze(0)
    inv = inv_freq_of(cfg, D)
    freqs = (inv[None, :, None].float() @ pos[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(dtype)[:, None], emb.sin().to(dtype)[:, None]  # [1, 1, T, D]
    causal = torch.full((T, T), torch.finfo(dtype).min, dtype=dtype).triu(1)[None, None]
    window = cfg.get("sliding_window") if cfg.get("use_sliding_window") else None
    if window is not None:  # kv > q - W, on top of the causal mask
        types = cfg.get("layer_types") or [
            "sliding_attention" if i >= cfg.get("max_window_layers", 28) else "full_attention"
            for i in range(cfg["num_hidden_layers"])]
        windowed = causal.masked_fill(torch.ones(T, T, dtype=torch.bool).tril(-window)[None, None],
                                      torch.finfo(dtype).min)

    def lin(h, name):
        b = w.get(name + ".bias")
        return torch.nn.functional.linear(h, w[name + ".weight"], b)

    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        r = x
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = lin(h, p + "self_attn.q_proj").view(1, T, nh, D)
        k = lin(h, p + "self_attn.k_proj").view(1, T, nkv, D)
        v = lin(h, p + "self_attn.v_proj").view(1, T, nkv, D).transpose(1, 2)
        if arch == "qwen3":
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = nh // nkv  # repeat_kv
        k = k[:, :, None].expand(1, nkv, rep, T, D).reshape(1, nh, T, D)
        v = v[:, :, None].expand(1, nkv, rep, T, D).reshape(1, nh, T, D)
        a = torch.matmul(q, k.transpose(2, 3)) * D ** -0.5
        a = a + (windowed if window is not None and types[i] == "sliding_attention" else causal)
        a = torch.softmax(a, dim=-1, dtype=torch.float32).to(dtype)
        o = torch.matmul(a, v).transpose(1, 2).reshape(1, T, nh * D)
        x = r + lin(o, p + "self_attn.o_proj")
        r = x
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj")
        x = r + lin(g, p + "mlp.down_proj")
    x = rms_norm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"]
    return torch.nn.functional.linear(x, head)[0].float()


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                "..", "..", "data", "models")
    golden = os.path.join(models, "golden")
    os.makedirs(golden, exist_ok=True)
    meta = {"sequences": SEQUENCES, "files": {}, "generated_by": "tests/tools/models/reference_forward.py",
            "layout": "float32 little-endian, per sequence [T, V] row-major, concatenated"}
    for name in ("tiny-qwen2", "tiny-qwen3", "tiny-llama"):
        d = os.path.join(models, name)
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        w = load_weights(d)
        for dn, dt in DTYPES.items():
            with torch.no_grad():
                parts = [forward(cfg, w, s, dt) for s in SEQUENCES]
            fn = f"{name}.{dn}.bin"
            with open(os.path.join(golden, fn), "wb") as f:
                for p in parts:
                    f.write(p.contiguous().numpy().astype("<f4").tobytes())
            meta["files"][f"{name}/{dn}"] = fn
            print(name, dn, "logit std %.3f" % torch.cat(parts).std().item(),
                  "argmax", [p.argmax(-1)[:5].tolist() for p in parts])
    for name, (base, changes) in VARIANTS.items():
        d = os.path.join(models, base)
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        cfg.update(changes)
        w = load_weights(d)
        with torch.no_grad():
            parts = [forward(cfg, w, s, torch.float32) for s in SEQUENCES]
        fn = f"{name}.float32.bin"
        with open(os.path.join(golden, fn), "wb") as f:
            for p in parts:
                f.write(p.contiguous().numpy().astype("<f4").tobytes())
        meta["files"][f"{name}/float32"] = fn
        meta.setdefault("variants", {})[name] = {"weights": base, "config": changes}
        print(name, "float32", "argmax", [p.argmax(-1)[:5].tolist() for p in parts])
    with open(os.path.join(golden, "golden.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
