#!/usr/bin/env python3
"""Writes the untrained base of the shipped demo model (resources/models/tiny): a Qwen2-layout HF
directory with freshly initialised weights (normal(0, 0.02) matrices, unit norms, zero biases,
as Hugging Face initialises Qwen2) and the tokenizer of tests/data/models/tiny-qwen2 (byte-level
BPE, ChatML). scripts/train_demo_model.sh then trains it with `reflab-cli sft`.
The safetensors writer is the test models' (tests/tools/models/make_tiny_models.py).
Usage: make_demo_base.py OUT_DIR [--hidden 128] [--layers 4] [--intermediate 256] [--heads 4]
                         [--kv-heads 2] [--seed 1]
"""
import argparse
import json
import os
import shutil
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools", "models"))
from make_tiny_models import write_safetensors  # noqa: E402

TOKENIZER_DIR = os.path.join(ROOT, "tests", "data", "models", "tiny-qwen2")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    with open(os.path.join(TOKENIZER_DIR, "config.json")) as f:
        cfg = json.load(f)  # the tokenizer's ids (vocab 320, specials) and the Qwen2 fields
    cfg.update(hidden_size=a.hidden, num_hidden_layers=a.layers, intermediate_size=a.intermediate,
               num_attention_heads=a.heads, num_key_value_heads=a.kv_heads, max_window_layers=a.layers,
               initializer_range=0.02)
    H, I, V = a.hidden, a.intermediate, cfg["vocab_size"]
    D = H // a.heads
    gen = torch.Generator().manual_seed(a.seed)

    def normal(*shape):
        return torch.randn(*shape, generator=gen) * cfg["initializer_range"]

    w = {"model.embed_tokens.weight": normal(V, H), "model.norm.weight": torch.ones(H)}
    for i in range(a.layers):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = torch.ones(H)
        w[p + "post_attention_layernorm.weight"] = torch.ones(H)
        w[p + "self_attn.q_proj.weight"] = normal(a.heads * D, H)
        w[p + "self_attn.k_proj.weight"] = normal(a.kv_heads * D, H)
        w[p + "self_attn.v_proj.weight"] = normal(a.kv_heads * D, H)
        w[p + "self_attn.o_proj.weight"] = normal(H, a.heads * D)
        w[p + "self_attn.q_proj.bias"] = torch.zeros(a.heads * D)
        w[p + "self_attn.k_proj.bias"] = torch.zeros(a.kv_heads * D)
        w[p + "self_attn.v_proj.bias"] = torch.zeros(a.kv_heads * D)
        w[p + "mlp.gate_proj.weight"] = normal(I, H)
        w[p + "mlp.up_proj.weight"] = normal(I, H)
        w[p + "mlp.down_proj.weight"] = normal(H, I)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        shutil.copyfile(os.path.join(TOKENIZER_DIR, name), os.path.join(a.out, name))
    write_safetensors(os.path.join(a.out, "model.safetensors"), w)
    print(f"{a.out}: {sum(t.numel() for t in w.values())} parameters", file=sys.stderr)


if __name__ == "__main__":
    main()
