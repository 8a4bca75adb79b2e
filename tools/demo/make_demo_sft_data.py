#!/usr/bin/env python3
"""Writes the SFT pairs that teach the demo model the demo task's format (resources/demo.json):
for every "What is a + b?" / "What is a - b?" with a, b in 0..20 (the distribution of
resources/data/demo_*.jsonl) except the eval set's questions, the target is the worked sum in
the recipe's reasoning tags followed by the result in its answer tags:
    <think>\n4 + 18 = 22\n</think>\n\n<answer>\n22\n</answer>
Rows are {"prompt", "target"} (reflab-cli sft's default fields), shuffled with a fixed seed.
Usage: make_demo_sft_data.py RECIPE OUT.jsonl [--seed 1]
"""
import argparse
import json
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("recipe")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(a.recipe) as f:
        recipe = json.load(f)
    think, answer = recipe["template"]["think"], recipe["template"]["answer"]
    with open(recipe["data"]["eval"]) as f:
        held_out = {json.loads(line)["question"] for line in f if line.strip()}

    rows = []
    for x in range(21):
        for y in range(21):
            for op, value in (("+", x + y), ("-", x - y)):
                question = f"What is {x} {op} {y}?"
                if question in held_out:
                    continue
                target = (f"{think[0]}\n{x} {op} {y} = {value}\n{think[1]}\n\n"
                          f"{answer[0]}\n{value}\n{answer[1]}")
                rows.append({"prompt": question, "target": target})
    random.Random(a.seed).shuffle(rows)
    with open(a.out, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"{a.out}: {len(rows)} pairs ({len(held_out)} eval questions left out)")


if __name__ == "__main__":
    main()
