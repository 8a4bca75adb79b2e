#!/usr/bin/env python3
"""Writes resources/data/demo/judge_scores.jsonl: labelled scores for the rubric-staged preset's
judge (stage judge_sft). For the first N demo training questions it writes three responses in
the demo model's format and scores them on the criterion "consistent" (0..5) by construction:
  - the worked solution, every step right and the answer its result: 5
  - one step's arithmetic off by one or two (the answer follows the wrong step): 1
  - the right steps but an answer that is not the last step's result: 0
Deterministic (no randomness): run it again and the file is the same.
Usage: scripts/make_judge_scores.py [N] > resources/data/demo/judge_scores.jsonl"""
import json
import re
import sys


def steps_of(question):
    """The demo task's steps [(a, op, b, result)] from its question text."""
    m = re.match(r"What is (\d+) (plus|minus) (\d+)\?", question)
    if m:
        ops = [(m.group(2) == "minus", int(m.group(3)))]
        value = int(m.group(1))
    else:
        value = int(re.match(r"Start with (\d+)", question).group(1))
        ops = [(w == "subtract", int(n)) for w, n in re.findall(r"(add|subtract) (\d+)", question)]
    out = []
    for sub, n in ops:
        nxt = value - n if sub else value + n
        out.append((value, "-" if sub else "+", n, nxt))
        value = nxt
    return out


def response(steps, answer):
    lines = "".join(f"{a} {op} {b} = {r}\n" for a, op, b, r in steps)
    return f"<think>\n{lines}</think>\n\n<answer>\n{answer}\n</answer>"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with open("resources/data/demo/train.jsonl") as f:
        rows = [json.loads(line) for line in f if line.strip()][:n]
    for i, row in enumerate(rows):
        q = row["question"]
        steps = steps_of(q)
        assert str(steps[-1][3]) == row["answer"], q
        good = response(steps, steps[-1][3])
        # One step wrong by 1 or 2; the later steps follow from the wrong value.
        k = i % len(steps)
        wrong, value = [], None
        for j, (a, op, b, r) in enumerate(steps):
            a = a if value is None else value
            r = (a - b if op == "-" else a + b) + (1 + i % 2 if j == k else 0)
            wrong.append((a, op, b, r))
            value = r
        off = response(wrong, wrong[-1][3])
        unrelated = response(steps, steps[-1][3] + 3 + i % 5)
        for text, score in ((good, 5), (off, 1), (unrelated, 0)):
            print(json.dumps({"question": q, "response": text, "scores": {"consistent": score}}))


if __name__ == "__main__":
    main()
