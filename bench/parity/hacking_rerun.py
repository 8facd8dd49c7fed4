"""Reward hacking on a real model, before and after the rules against it (GPU machine).

Runs configs/examples/smollm2-r1-zero-arithmetic.yaml twice on the same data and seed: once with
the old rules (math_accuracy answer_form: equivalent, format judge_thinking: false), once with
the defaults. Writes one JSON object with, per run, the training accuracy and format curves, the
audit/* metrics, held-out pass@1, mean completion length and the last step's logged samples,
and prints a table.

Usage: python3 bench/parity/hacking_rerun.py --grpo build/cuda/cli/grpo --model DIR --out FILE [--steps N]
"""
import argparse
import json
import os
import sqlite3
import subprocess
import tempfile

import yaml

CONFIG = "configs/examples/smollm2-r1-zero-arithmetic.yaml"
AUDIT = ["audit/answer_copied_from_prompt", "audit/placeholder_thinking", "audit/empty_thinking",
         "audit/duplicate_in_group", "audit/answer_is_expression", "audit/format_without_accuracy"]


def run(grpo, config, model, data_dir, steps, run_dir):
    cmd = [grpo, "rl", config, "--run-dir", run_dir, f"policy.path={model}",
           f"data.train.path={data_dir}/train.jsonl", f"data.eval.path={data_dir}/test.jsonl", f"train.steps={steps}"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(os.path.join(run_dir, "run.db"))
    series = {}
    for step, name, value in db.execute("select step, name, value from metrics order by step"):
        series.setdefault(name, {})[step] = value
    pick = lambda n: [series.get(n, {}).get(s) for s in sorted(series.get(n, {}))]
    last = db.execute("select max(step) from samples").fetchone()[0]
    samples = [{"completion": c, "rewards": json.loads(r), "answer": json.loads(e).get("answer")}
               for c, r, e in db.execute("select completion, rewards, extra from samples where step = ? limit 8", (last,))]
    evals = {n: series[n] for n in series if n.startswith("eval/")}
    return {"accuracy": pick("reward/math_accuracy/mean"), "format": pick("reward/format/mean"),
            "length": pick("completion/length_mean"), "audit": {n: pick(n) for n in AUDIT}, "eval": evals,
            "samples": samples}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grpo", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=60)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hacking_")
    data = os.path.join(work, "data")
    for split, n in (("train", 10000), ("test", 256)):
        subprocess.run([a.grpo, "data", "generate", "--task", "arithmetic", "--n", str(n), "--split", split,
                        "--output", f"{data}/{split}.jsonl"], check=True, stdout=subprocess.DEVNULL)
    cfg = yaml.safe_load(open(CONFIG))
    for r in cfg["rewards"]:
        r.setdefault("params", {})
        if r["name"] == "math_accuracy":
            r["params"]["answer_form"] = "equivalent"
        if r["name"] == "format":
            r["params"]["judge_thinking"] = False
    old = os.path.join(work, "old_rules.yaml")
    yaml.safe_dump(cfg, open(old, "w"))
    result = {"steps": a.steps,
              "old rules": run(a.grpo, old, a.model, data, a.steps, os.path.join(work, "old")),
              "defaults": run(a.grpo, CONFIG, a.model, data, a.steps, os.path.join(work, "new"))}
    json.dump(result, open(a.out, "w"), indent=1, ensure_ascii=False)
    print("| run | train acc first -> last | format first -> last | length first -> last | held-out pass@1 | "
          "expression / placeholder / copied (last step) |")
    print("|---|---|---|---|---|---|")
    for name in ("old rules", "defaults"):
        r = result[name]
        ev = r["eval"].get("eval/pass@1", {})
        ev_txt = " -> ".join(f"{ev[s]:.3f}" for s in sorted(ev))
        au = r["audit"]
        last = lambda k: (au[k][-1] if au[k] and au[k][-1] is not None else float("nan"))
        print(f"| {name} | {r['accuracy'][0]:.3f} -> {r['accuracy'][-1]:.3f} | {r['format'][0]:.3f} -> "
              f"{r['format'][-1]:.3f} | {r['length'][0]:.0f} -> {r['length'][-1]:.0f} | {ev_txt} | "
              f"{last('audit/answer_is_expression'):.3f} / {last('audit/placeholder_thinking'):.3f} / "
              f"{last('audit/answer_copied_from_prompt'):.3f} |")


if __name__ == "__main__":
    main()
