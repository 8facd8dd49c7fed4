#!/usr/bin/env python3
"""A worker for grpo.cpp's `external` reward that judges math answers with math-verify
(pip install math-verify). It reads one JSON request per line on stdin and writes one reply
per line on stdout (protocol: docs/rewards.md, "external"):
  request  {"id": 7, "prompt": ..., "completion": ..., "answer": ..., <the record's other fields>}
  reply    {"id": 7, "value": 1.0, "reason": "verified: 1/2 = 0.5"}
The gold `answer` (as $\\boxed{answer}$ unless it has its own $ or \\boxed) and the completion
are parsed with math_verify.parse and its default extraction (LaTeX, \\boxed{} and plain
expressions), then compared with math_verify.verify.
Value 1 when they are equivalent, 0 when not, or when either cannot be parsed. It only judges
the answer: no format, length or reasoning checks.

Config:
  rewards:
    - name: external
      params:
        command: [python3, examples/rewards/math_verify_reward.py]
        workers: 2
"""
import json
import sys

from math_verify import parse, verify


def shown(parsed):
    return str(parsed[-1]) if parsed else "nothing"


def judge(request):
    gold_text = request.get("answer", "")
    # A reference answer is given the way math-verify reads answers best: as $\boxed{...}$.
    # Parsed bare, a LaTeX reference such as "74\%" has no delimiters, so math-verify's LaTeX
    # extraction skips it and its plain-expression extraction finds 74 (`grpo reward check
    # --against` found this worker agreeing with the math corpus's labels on 77% of cases so).
    wrapped = "$" in gold_text or "\\boxed" in gold_text
    gold = parse(gold_text if wrapped else "$\\boxed{" + gold_text + "}$")
    if not gold:
        return 0.0, "the reference answer could not be parsed: " + gold_text[:100]
    answer = parse(request.get("completion", ""))
    if not answer:
        return 0.0, "no answer found in the completion"
    if verify(gold, answer):
        return 1.0, "verified: " + shown(answer) + " = " + shown(gold)
    return 0.0, "not equivalent: " + shown(answer) + " vs " + shown(gold)


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            value, reason = judge(request)
        except Exception as error:  # one bad sample must not end the worker
            value, reason = 0.0, "math_verify failed: " + repr(error)[:200]
        sys.stdout.write(json.dumps({"id": request["id"], "value": value, "reason": reason}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
