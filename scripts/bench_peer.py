#!/usr/bin/env python3
"""The eager PyTorch peer of `reflab-cli bench`: the same phases on the same shapes, written the
way a plain PyTorch user writes them (a Qwen2 decoder in torch.nn ops, a KV cache, AdamW), and
one JSON object on stdout. `reflab-cli bench --peer` runs it beside its own parts so that the
ratio is measured in one run on the reader's machine; it also runs alone:

    /usr/bin/python3 scripts/bench_peer.py --what generate,score,train

Debian's python3-torch (1.13) is enough: no transformers, no safetensors. The weights are
random (N(0, 0.02), as reflab's random model); --config takes the shape of a config.json.

Accounting is the same as reflab's (core/model/flop_count.h): 2 FLOPs per multiply-add of the
decoder's weights per token, the lm_head only on the positions whose next token is scored
(here too: the hidden rows are sliced before the lm_head, as TRL's logits_to_keep does).
AdamW is torch.optim.AdamW on the bf16 weights (moments in bf16: what a plain user gets).
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

QWEN25_HALF_B = {
    "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
    "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
    "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
}


class Config:
    def __init__(self, d):
        self.vocab = d["vocab_size"]
        self.hidden = d["hidden_size"]
        self.inter = d["intermediate_size"]
        self.layers = d["num_hidden_layers"]
        self.heads = d["num_attention_heads"]
        self.kv_heads = d.get("num_key_value_heads", self.heads)
        self.head_dim = d.get("head_dim") or self.hidden // self.heads
        self.eps = d.get("rms_norm_eps", 1e-6)
        self.theta = d.get("rope_theta", 10000.0)
        self.tied = d.get("tie_word_embeddings", False)
        kind = d.get("model_type", "qwen2")
        self.bias = d.get("attention_bias", kind == "qwen2")  # Qwen2's q/k/v carry a bias
        self.qk_norm = kind == "qwen3"  # counted, not run: 2 x head_dim weights per layer

    def body_params(self):
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        layer = self.hidden * (q + 2 * kv) + q * self.hidden + 3 * self.hidden * self.inter
        layer += 2 * self.hidden + ((q + 2 * kv) if self.bias else 0)
        layer += 2 * self.head_dim if self.qk_norm else 0
        return self.layers * layer + self.hidden

    def lm_head_params(self):
        return self.vocab * self.hidden


class RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


def rope(x, cos, sin):  # x (B, H, T, D); cos/sin (T, D)
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rot * sin


class Layer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        q, kv = c.heads * c.head_dim, c.kv_heads * c.head_dim
        self.q = torch.nn.Linear(c.hidden, q, bias=c.bias)
        self.k = torch.nn.Linear(c.hidden, kv, bias=c.bias)
        self.v = torch.nn.Linear(c.hidden, kv, bias=c.bias)
        self.o = torch.nn.Linear(q, c.hidden, bias=False)
        self.gate = torch.nn.Linear(c.hidden, c.inter, bias=False)
        self.up = torch.nn.Linear(c.hidden, c.inter, bias=False)
        self.down = torch.nn.Linear(c.inter, c.hidden, bias=False)
        self.n1 = RMSNorm(c.hidden, c.eps)
        self.n2 = RMSNorm(c.hidden, c.eps)

    def forward(self, x, cos, sin, mask, cache=None):
        c = self.c
        B, T, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, T, c.heads, c.head_dim).transpose(1, 2)
        k = self.k(h).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        v = self.v(h).view(B, T, c.kv_heads, c.head_dim).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is not None:
            if cache[0] is not None:
                k = torch.cat((cache[0], k), dim=2)
                v = torch.cat((cache[1], v), dim=2)
            cache[0], cache[1] = k, v
        rep = c.heads // c.kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(c.head_dim)
        if mask is not None:
            att = att + mask
        att = torch.softmax(att.float(), dim=-1).to(q.dtype)
        y = (att @ v).transpose(1, 2).reshape(B, T, -1)
        x = x + self.o(y)
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = torch.nn.Embedding(c.vocab, c.hidden)
        self.layers = torch.nn.ModuleList([Layer(c) for _ in range(c.layers)])
        self.norm = RMSNorm(c.hidden, c.eps)
        self.lm_head = None if c.tied else torch.nn.Linear(c.hidden, c.vocab, bias=False)
        inv = 1.0 / (c.theta ** (torch.arange(0, c.head_dim, 2).float() / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def head(self, h):
        w = self.embed.weight if self.lm_head is None else self.lm_head.weight
        return h @ w.t()

    def hidden(self, ids, start=0, caches=None):
        B, T = ids.shape
        pos = torch.arange(start, start + T).float()
        freqs = torch.outer(pos, self.inv_freq.float())  # (.to(dtype) cast the buffer too)
        emb = torch.cat((freqs, freqs), dim=-1)
        dtype = self.embed.weight.dtype
        cos, sin = emb.cos().to(dtype), emb.sin().to(dtype)
        mask = None
        if T > 1:
            full = start + T
            mask = torch.full((T, full), float("-inf")).triu(start + 1).to(dtype)
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, None if caches is None else caches[i])
        return self.norm(x)


def build(c, dtype, seed):
    torch.manual_seed(seed)
    m = Model(c)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "n1" in name or "n2" in name or name.startswith("norm"):
                continue
            p.normal_(0.0, 0.02)
    return m.to(dtype)


def best_of(fn, reps=3):
    fn()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def roofline(dtype):
    n = 1024
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    t = best_of(lambda: a @ b, 5)
    buf = torch.ones(1 << 27)
    tb = best_of(lambda: buf.sum(), 5)
    return {"gemm_gflops": 2 * n ** 3 / t / 1e9,
            "gemm_shape": {"m": n, "k": n, "n": n, "dtype": str(dtype).replace("torch.", "")},
            "bandwidth_gbs": buf.numel() * 4 / tb / 1e9}


@torch.no_grad()
def generate(m, prompts, new_tokens, gen):
    """Prefill the batch, then one token per step for every row (no EOS: fixed work)."""
    caches = [[None, None] for _ in m.layers]
    t0 = time.perf_counter()
    h = m.hidden(prompts, 0, caches)
    logits = m.head(h[:, -1]).float()
    prefill_s = time.perf_counter() - t0
    out, logps = [], []
    pos = prompts.shape[1]
    t1 = time.perf_counter()
    for _ in range(new_tokens):
        lp = torch.log_softmax(logits, dim=-1)
        tok = torch.multinomial(lp.exp(), 1, generator=gen)
        out.append(tok)
        logps.append(lp.gather(1, tok))
        h = m.hidden(tok, pos, caches)
        logits = m.head(h[:, -1]).float()
        pos += 1
    decode_s = time.perf_counter() - t1
    return torch.cat(out, 1), torch.cat(logps, 1), prefill_s, decode_s


def target_logprobs(m, seqs, ctx):
    """log p(seqs[:, j] | seqs[:, :j]) for j >= ctx: the lm_head on the target positions only."""
    h = m.hidden(seqs)[:, ctx - 1:-1]
    lp = torch.log_softmax(m.head(h).float(), dim=-1)
    return lp.gather(-1, seqs[:, ctx:].unsqueeze(-1)).squeeze(-1)


def bench_generate(m, c, a, gen):
    prompts = torch.randint(0, min(c.vocab, 30000), (a.batch, a.prompt_tokens), generator=gen)
    generate(m, prompts, 4, gen)  # warm-up
    t0 = time.perf_counter()
    toks, _, pre, dec = generate(m, prompts, a.new_tokens, gen)
    total = time.perf_counter() - t0
    return {"batch": a.batch, "prompt_tokens": a.prompt_tokens, "new_tokens": a.new_tokens,
            "tokens": toks.numel(), "seconds": total, "tokens_per_s": toks.numel() / total,
            "prefill_tokens_per_s": prompts.numel() / pre,
            "decode_tokens_per_s": a.batch * a.new_tokens / dec}


def bench_score(m, c, a, gen):
    seqs = torch.randint(0, min(c.vocab, 30000), (a.score_sequences, a.score_tokens), generator=gen)
    ctx = a.score_tokens // 2
    with torch.no_grad():
        best = best_of(lambda: target_logprobs(m, seqs, ctx))
    tokens, targets = seqs.numel(), a.score_sequences * (a.score_tokens - ctx)
    flops = 2 * (c.body_params() * tokens + c.lm_head_params() * targets)
    return {"tokens_per_s": targets / best, "target_tokens_per_s": targets / best,
            "all_tokens_per_s": tokens / best, "sequences": a.score_sequences,
            "tokens_per_sequence": a.score_tokens, "tokens": tokens, "target_tokens": targets,
            "flops": flops, "gflops": flops / best / 1e9, "seconds": best}


def bench_train(m, c, a, gen):
    """train_bench.h's step: G completions of one prompt, a no-grad scoring forward, then
    micro-batched forward + backward of the clipped policy loss and one AdamW update."""
    opt = torch.optim.AdamW(m.parameters(), lr=1e-6, foreach=True)
    prompt = torch.randint(100, min(c.vocab, 30000), (1, a.prompt_tokens), generator=gen)
    P, N, G = a.prompt_tokens, a.new_tokens, a.batch
    adv = torch.tensor([1.0 if i % 2 == 0 else -1.0 for i in range(G)])
    sums = {"generate": 0.0, "score": 0.0, "train": 0.0, "forward": 0.0, "backward": 0.0,
            "optimizer": 0.0, "step": 0.0}
    first = 0.0
    for step in range(-1, a.train_steps):
        t_step = time.perf_counter()
        t0 = time.perf_counter()
        toks, old, _, _ = generate(m, prompt.expand(G, P).contiguous(), N, gen)
        t_gen = time.perf_counter() - t0
        seqs = torch.cat((prompt.expand(G, P), toks), 1)
        t0 = time.perf_counter()
        with torch.no_grad():
            target_logprobs(m, seqs, P)
        t_score = time.perf_counter() - t0
        t0 = time.perf_counter()
        fwd = bwd = 0.0
        opt.zero_grad(set_to_none=True)
        for b in range(0, G, a.micro_batch):
            e = min(G, b + a.micro_batch)
            t1 = time.perf_counter()
            lp = target_logprobs(m, seqs[b:e], P)
            ratio = torch.exp(lp - old[b:e])
            A = adv[b:e].unsqueeze(1)
            loss = -torch.min(ratio * A, torch.clamp(ratio, 0.8, 1.2) * A).sum() / (G * N)
            t2 = time.perf_counter()
            loss.backward()
            fwd += t2 - t1
            bwd += time.perf_counter() - t2
        t1 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=True)
        t_opt = time.perf_counter() - t1
        t_train = time.perf_counter() - t0
        if step < 0:
            first = time.perf_counter() - t_step
            continue
        for k, v in (("generate", t_gen), ("score", t_score), ("train", t_train),
                     ("forward", fwd), ("backward", bwd), ("optimizer", t_opt),
                     ("step", time.perf_counter() - t_step)):
            sums[k] += v
    n = a.train_steps
    s = {k: v / n for k, v in sums.items()}
    tokens, targets = G * (P + N), G * N
    train_flops = 6 * (c.body_params() * tokens + c.lm_head_params() * targets)
    return {"seconds_per_step": s["step"], "first_step_seconds": first,
            "group": G, "prompt_tokens": P, "new_tokens": N, "micro_batch": a.micro_batch,
            "phases": {"generate": s["generate"], "score": s["score"], "train": s["train"]},
            "train_split": {"forward": s["forward"], "backward": s["backward"],
                            "optimizer": s["optimizer"]},
            "train_tokens": tokens, "target_tokens": targets, "train_flops": train_flops,
            "train_gflops": train_flops / s["train"] / 1e9,
            "optimizer": "torch.optim.AdamW(foreach) on bf16 weights, bf16 moments"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--what", default="generate,score,train",
                    help="comma-separated: generate, score, train (all = the three)")
    ap.add_argument("--config", help="a model's config.json (default: Qwen2.5-0.5B's shape)")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--prompt-tokens", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--score-sequences", type=int, default=8)
    ap.add_argument("--score-tokens", type=int, default=128)
    ap.add_argument("--micro-batch", type=int, default=4)
    ap.add_argument("--train-steps", type=int, default=1)
    ap.add_argument("--train-prompt-tokens", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    parts = ["generate", "score", "train"] if a.what == "all" else a.what.split(",")
    for p in parts:
        if p not in ("generate", "score", "train"):
            sys.exit(f"bench_peer.py: --what: '{p}' is not one of generate, score, train, all")
    dtype = {"bfloat16": torch.bfloat16, "float32": torch.float32,
             "float16": torch.float16}.get(a.dtype)
    if dtype is None:
        sys.exit(f"bench_peer.py: --dtype: '{a.dtype}' is not bfloat16, float32 or float16")
    if a.config:
        try:
            with open(a.config) as f:
                c = Config(json.load(f))
        except (OSError, ValueError, KeyError) as e:
            sys.exit(f"bench_peer.py: {a.config}: {e}")
    else:
        c = Config(QWEN25_HALF_B)
    torch.set_num_threads(a.threads)
    gen = torch.Generator().manual_seed(a.seed)
    m = build(c, dtype, a.seed)
    out = {"peer": "eager PyTorch " + torch.__version__, "threads": torch.get_num_threads(),
           "dtype": a.dtype, "body_params": c.body_params(), "lm_head_params": c.lm_head_params(),
           "roofline": roofline(dtype)}
    if "generate" in parts:
        out["generate"] = bench_generate(m, c, a, gen)
    if "score" in parts:
        out["score"] = bench_score(m, c, a, gen)
    if "train" in parts:
        ta = argparse.Namespace(**vars(a))
        ta.prompt_tokens = a.train_prompt_tokens
        out["train"] = bench_train(m, c, ta, gen)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
