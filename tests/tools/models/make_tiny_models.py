#!/usr/bin/env python3
"""Writes the tiny random-weight test models under tests/data/models/ (run once; outputs committed).

tiny-qwen2  Qwen2 layout, float32, tied embeddings, q/k/v bias, GQA (4 heads, 2 kv heads)
tiny-qwen3  Qwen3 layout, bfloat16, untied lm_head, per-head q/k RMSNorm, head_dim 32 != hidden/heads
tiny-llama  Llama 3 layout, float32, untied, llama3 rope_scaling, GQA 4:1, sharded in two files

Each gets a small byte-level BPE tokenizer.json (256 byte tokens, merges learned here from a
fixed text, ChatML specials, the Qwen pre-tokenizer regex) and a tokenizer_config.json with a
ChatML chat template. The safetensors files are written by hand (8-byte LE header length +
JSON header + raw data) so that nothing here shares code with the C++ reader.
Usage: python3 make_tiny_models.py [OUT_DIR]   (default: ../../data/models next to this file)
"""
import collections
import json
import os
import struct
import sys

import torch

QWEN_PRETOKENIZE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                    r"|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
CORPUS = ("the quick brown fox jumps over the lazy dog. the answer is 42. "
          "<think> let me think about the problem </think> <answer> the answer </answer> "
          "def main(): return the value of the function; print(hello world) " * 3)
VOCAB_SIZE = 320  # tokenizer uses 256 + merges + 3 specials; the embedding is padded to this


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def train_merges(n_merges):
    """Plain byte-level BPE on space-split words of CORPUS (a leading space joins the word)."""
    b2u = bytes_to_unicode()
    words = collections.Counter()
    for i, w in enumerate(CORPUS.split(" ")):
        if w:
            words[tuple(b2u[b] for b in (" " + w if i else w).encode())] += 1
    merges = []
    for _ in range(n_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append((a, b))
        new_words = collections.Counter()
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] += c
        words = new_words
    return merges


def tokenizer_json():
    b2u = bytes_to_unicode()
    vocab = {}
    for b in sorted(b2u):
        vocab[b2u[b]] = len(vocab)
    merges = train_merges(40)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    added = []
    for s in SPECIALS:
        added.append({"id": len(vocab) + len(added), "content": s, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True})
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": QWEN_PRETOKENIZE}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }


def tokenizer_config(tok):
    ids = {t["content"]: t["id"] for t in tok["added_tokens"]}
    return {
        "add_prefix_space": False,
        "added_tokens_decoder": {str(t["id"]): {k: t[k] for k in ("content", "lstrip", "normalized", "rstrip",
                                                                   "single_word", "special")}
                                 for t in tok["added_tokens"]},
        "bos_token": None,
        "chat_template": CHATML_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "model_max_length": 4096,
        "tokenizer_class": "Qwen2Tokenizer",
    }, ids


ST_DTYPE = {torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def random_weights(cfg, gen):
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    D = cfg.get("head_dim", H // nh)
    arch = cfg["model_type"]
    qkv_bias = arch == "qwen2" or cfg.get("attention_bias", False)
    o_bias = arch != "qwen2" and cfg.get("attention_bias", False)

    def n(*shape, std=0.15):
        return torch.randn(*shape, generator=gen) * std

    def norm(dim):
        return 1.0 + n(dim, std=0.1)

    w = {"model.embed_tokens.weight": n(V, H, std=1.0), "model.norm.weight": norm(H)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = norm(H)
        w[p + "post_attention_layernorm.weight"] = norm(H)
        w[p + "self_attn.q_proj.weight"] = n(nh * D, H)
        w[p + "self_attn.k_proj.weight"] = n(nkv * D, H)
        w[p + "self_attn.v_proj.weight"] = n(nkv * D, H)
        w[p + "self_attn.o_proj.weight"] = n(H, nh * D)
        if qkv_bias:
            w[p + "self_attn.q_proj.bias"] = n(nh * D, std=0.1)
            w[p + "self_attn.k_proj.bias"] = n(nkv * D, std=0.1)
            w[p + "self_attn.v_proj.bias"] = n(nkv * D, std=0.1)
        if o_bias:
            w[p + "self_attn.o_proj.bias"] = n(H, std=0.1)
        if arch == "qwen3":
            w[p + "self_attn.q_norm.weight"] = norm(D)
            w[p + "self_attn.k_norm.weight"] = norm(D)
        w[p + "mlp.gate_proj.weight"] = n(I, H)
        w[p + "mlp.up_proj.weight"] = n(I, H)
        w[p + "mlp.down_proj.weight"] = n(H, I)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = n(V, H)
    return w


def model_configs(special_ids):
    eos, pad = special_ids["<|im_end|>"], special_ids["<|endoftext|>"]
    common = {"vocab_size": VOCAB_SIZE, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
              "num_attention_heads": 4, "max_position_embeddings": 512, "bos_token_id": pad,
              "eos_token_id": eos, "pad_token_id": pad, "transformers_version": "4.51.0", "use_cache": True,
              "hidden_act": "silu", "initializer_range": 0.02, "attention_dropout": 0.0}
    qwen2 = dict(common, architectures=["Qwen2ForCausalLM"], model_type="qwen2", num_key_value_heads=2,
                 rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True, torch_dtype="float32",
                 use_sliding_window=False, sliding_window=None, max_window_layers=2)
    qwen3 = dict(common, architectures=["Qwen3ForCausalLM"], model_type="qwen3", num_key_value_heads=2,
                 head_dim=32, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False,
                 attention_bias=False, torch_dtype="bfloat16", use_sliding_window=False, sliding_window=None,
                 max_window_layers=2)
    llama = dict(common, architectures=["LlamaForCausalLM"], model_type="llama", num_key_value_heads=1,
                 rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=False, attention_bias=False,
                 mlp_bias=False, torch_dtype="float32", pretraining_tp=1,
                 rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 16})
    return {"tiny-qwen2": qwen2, "tiny-qwen3": qwen3, "tiny-llama": llama}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "..", "..", "data", "models")
    tok = tokenizer_json()
    tok_cfg, special_ids = tokenizer_config(tok)
    gen = torch.Generator().manual_seed(20261126)
    for name, cfg in model_configs(special_ids).items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[cfg["torch_dtype"]]
        w = {k: v.to(dtype) for k, v in random_weights(cfg, gen).items()}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        with open(os.path.join(d, "tokenizer.json"), "w") as f:
            json.dump(tok, f, indent=2, ensure_ascii=False)
        with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
            json.dump(tok_cfg, f, indent=2)
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": cfg["bos_token_id"], "eos_token_id": [cfg["eos_token_id"], cfg["pad_token_id"]],
                       "pad_token_id": cfg["pad_token_id"], "transformers_version": "4.51.0"}, f, indent=2)
        if name == "tiny-llama":
            names = sorted(w)
            half = len(names) // 2
            shards = {"model-00001-of-00002.safetensors": names[:half],
                      "model-00002-of-00002.safetensors": names[half:]}
            weight_map = {}
            for fname, keys in shards.items():
                write_safetensors(os.path.join(d, fname), {k: w[k] for k in keys})
                weight_map.update({k: fname for k in keys})
            total = sum(t.numel() * t.element_size() for t in w.values())
            with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
                json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        else:
            write_safetensors(os.path.join(d, "model.safetensors"), w)
        print(name, sum(t.numel() for t in w.values()), "parameters")


if __name__ == "__main__":
    main()
