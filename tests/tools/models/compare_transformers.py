#!/usr/bin/env python3
"""GPU check, second half (scripts/gpu_check.sh runs it): RefLab's logits on CUDA against
Hugging Face transformers and against the committed CPU reference.

For each tiny model (tests/data/models/tiny-*) and compute dtype (float32, bfloat16), and each
sequence of tests/data/models/golden/golden.json:
  - `reflab-cli logits --device cuda --dtype D` (RefLab, C++),
  - transformers' AutoModelForCausalLM.from_pretrained(dir, dtype=D, attn_implementation="eager")
    on CUDA (an implementation that shares nothing with RefLab),
  - the committed golden file of reference_forward.py (CPU, pure PyTorch),
and compares them with the tolerances of tests/core/test_model_forward.cpp (fraction of the
largest |logit|: float32 1e-4, bfloat16 5e-2; cuBLAS blocks sums differently from the CPU).
Writes OUT/<model>.transformers.<dtype>.bin (float32 LE, per sequence [T, V], concatenated,
the layout of the golden files) and OUT/compare.json. Exit status 1 when any comparison fails.
Usage: compare_transformers.py --cli build-gpu/bin/reflab-cli --out OUT [--device cuda]
Never downloads anything (HF_HUB_OFFLINE=1).
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MODELS = os.path.join(ROOT, "tests", "data", "models")
TOL = {"float32": 1e-4, "bfloat16": 5e-2}
TORCH_DTYPE = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def max_rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-6))


def reflab_logits(cli, model_dir, ids, dtype, device, tmp):
    out = os.path.join(tmp, "reflab_logits.bin")
    cmd = [cli, "logits", "--model", model_dir, "--ids", " ".join(map(str, ids)), "--out", out,
           "--dtype", dtype, "--device", device]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("reflab-cli failed: " + r.stderr.strip())
    return np.fromfile(out, dtype="<f4")


def hf_model(model_dir, dtype, device):
    from transformers import AutoModelForCausalLM
    kw = {"attn_implementation": "eager"}
    try:
        m = AutoModelForCausalLM.from_pretrained(model_dir, dtype=TORCH_DTYPE[dtype], **kw)
    except TypeError:  # transformers < 4.56 names it torch_dtype
        m = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=TORCH_DTYPE[dtype], **kw)
    return m.to(device).eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tmp = os.path.join(args.out, ".tmp")
    os.makedirs(tmp, exist_ok=True)
    meta = json.load(open(os.path.join(MODELS, "golden", "golden.json")))
    seqs = meta["sequences"]
    import transformers
    report = {"torch": torch.__version__, "transformers": transformers.__version__,
              "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
              "tolerance": TOL, "results": []}
    ok = True
    for name in ("tiny-qwen2", "tiny-qwen3", "tiny-llama"):
        d = os.path.join(MODELS, name)
        vocab = json.load(open(os.path.join(d, "config.json")))["vocab_size"]
        for dtype in ("float32", "bfloat16"):
            golden = np.fromfile(os.path.join(MODELS, "golden", meta["files"][f"{name}/{dtype}"]), dtype="<f4")
            entry = {"model": name, "dtype": dtype, "sequences": []}
            try:
                hf = hf_model(d, dtype, args.device)
            except Exception as e:  # noqa: BLE001 - reported, counted as a failure
                entry["error"] = f"transformers could not load {name}: {e}"
                report["results"].append(entry)
                ok = False
                print(entry["error"], flush=True)
                continue
            hf_parts, off = [], 0
            for s in seqs:
                T = len(s)
                g = golden[off:off + T * vocab].reshape(T, vocab)
                off += T * vocab
                with torch.no_grad():
                    h = hf(torch.tensor([s], device=args.device)).logits[0].float().cpu().numpy()
                hf_parts.append(h)
                try:
                    r = reflab_logits(args.cli, d, s, dtype, args.device, tmp).reshape(T, vocab)
                    res = {"T": T, "reflab_vs_transformers": max_rel(r, h), "reflab_vs_golden": max_rel(r, g),
                           "transformers_vs_golden": max_rel(h, g),
                           "argmax_agree": float((r.argmax(-1) == h.argmax(-1)).mean())}
                except Exception as e:  # noqa: BLE001
                    res = {"T": T, "error": str(e)}
                good = "error" not in res and all(res[k] <= TOL[dtype] for k in
                                                  ("reflab_vs_transformers", "reflab_vs_golden",
                                                   "transformers_vs_golden"))
                res["ok"] = good
                ok = ok and good
                entry["sequences"].append(res)
                print(name, dtype, json.dumps(res), flush=True)
            with open(os.path.join(args.out, f"{name}.transformers.{dtype}.bin"), "wb") as f:
                for h in hf_parts:
                    f.write(np.ascontiguousarray(h, dtype="<f4").tobytes())
            report["results"].append(entry)
            del hf
    report["ok"] = ok
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump(report, f, indent=1)
    for fn in os.listdir(tmp):
        os.remove(os.path.join(tmp, fn))
    os.rmdir(tmp)
    print("ALL OK" if ok else "SOME COMPARISONS FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
