"""Side-by-side early learning of grpo.cpp and TRL's GRPOTrainer on the same real model (GPU).

Both get the same Hugging Face directory (SmolLM2-135M-Instruct imported from its GGUF by
`grpo model import`), the same generated task (two-digit + and -), the model's own chat prompt,
the same reward (grpo.cpp's `math_accuracy`: TRL's reward function calls `grpo reward`, so the
two runs are scored by one implementation), 64 prompts x 8 completions a step, lr 5e-6 constant,
AdamW (0.9, 0.999), no weight decay, clip 1.0, token-mean loss (TRL "dapo"), no KL,
temperature 1 with no top-k/top-p, max 128 new tokens, over several seeds. Writes one JSON object
with both training-reward curves (mean math_accuracy of each step's 512 completions) and both
step times, and prints a table. grpo.cpp may run several variants (e.g. the same model imported
in bf16: the old, rounded masters) named on the command line.

Not here: evaluation on held-out prompts (the example config does that), vLLM (TRL generates with
transformers here, its default).

Usage (on the GPU machine, from the repository root, after a CUDA build):
  python3 bench/parity/trl_side_by_side.py --grpo build/cuda/cli/grpo \
      --variant exact=/tmp/smollm2-f32 --variant bf16=/tmp/smollm2-bf16 --trl-model /tmp/smollm2-f32 \
      --seeds 0 1 2 --steps 15 --out /tmp/side_by_side.json
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

CONFIG = "configs/examples/smollm2-arithmetic.yaml"
DIFFICULTY = ["min_digits=2", "max_digits=2", "min_ops=1", "max_ops=1", "operators=+-"]
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def generate_data(grpo, workdir):
    path = os.path.join(workdir, "train.jsonl")
    subprocess.run([grpo, "data", "generate", "--task", "arithmetic", "--difficulty", *DIFFICULTY,
                    "--n", "10000", "--seed", "0", "--output", path], check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        records = [json.loads(line) for line in f]
    return path, records


def run_grpo(grpo, model, overrides, data, seed, steps, workdir, name):
    run_dir = os.path.join(workdir, f"grpo-{name}-{seed}")
    cmd = [grpo, "rl", CONFIG, "--run-dir", run_dir, f"policy.path={model}", f"data.train.path={data}",
           "data.eval.path=", "train.eval_every=0", f"train.steps={steps}", f"run.seed={seed}", "train.log_samples=4",
           *overrides]
    t0 = time.time()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.time() - t0
    db = sqlite3.connect(os.path.join(run_dir, "run.db"))
    keys = {"reward/math_accuracy/mean": "reward", "time/step_s": "step_s", "completion/length_mean": "length",
            "time/rollout_s": "rollout_s", "time/learner_s": "learner_s"}
    series = {v: {} for v in keys.values()}
    for step, key, value in db.execute("select step, name, value from metrics order by step"):
        if key in keys:
            series[keys[key]][step] = value
    out = {k: [v[s] for s in sorted(v)] for k, v in series.items()}
    out["wall_s"] = wall
    return out


def run_trl(grpo, model, records, seed, steps, workdir):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    def accuracy(prompts, completions, answer, **_):
        # Scored by grpo.cpp's own math_accuracy, so both tools share one reward implementation.
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "out.jsonl")
            with open(src, "w") as f:
                for p, c, a in zip(prompts, completions, answer):
                    f.write(json.dumps({"prompt": p[-1]["content"], "completion": c[0]["content"], "answer": a}) + "\n")
            subprocess.run([grpo, "reward", "--config", CONFIG, "--input", src, "--output", dst], check=True,
                           stdout=subprocess.DEVNULL)
            with open(dst) as f:
                return [json.loads(line)["rewards"]["math_accuracy"] for line in f]

    class StepTimer(TrainerCallback):
        def __init__(self):
            self.times, self.t0 = [], None

        def on_step_begin(self, args, state, control, **kw):
            torch.cuda.synchronize()
            self.t0 = time.time()

        def on_step_end(self, args, state, control, **kw):
            torch.cuda.synchronize()
            self.times.append(time.time() - self.t0)

    rows = [{"prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": r["prompt"]}],
             "answer": r["answer"]} for r in records]
    args = GRPOConfig(
        output_dir=os.path.join(workdir, f"trl-{seed}"), seed=seed, max_steps=steps, logging_steps=1,
        per_device_train_batch_size=64, gradient_accumulation_steps=8, num_generations=8,
        max_completion_length=128, temperature=1.0, top_k=0, top_p=1.0, learning_rate=5e-6,
        lr_scheduler_type="constant", warmup_steps=0, adam_beta1=0.9, adam_beta2=0.999, weight_decay=0.0,
        max_grad_norm=1.0, beta=0.0, loss_type="dapo", scale_rewards="group", num_iterations=1, bf16=True,
        report_to=[], save_strategy="no", gradient_checkpointing=False, log_completions=False)
    timer = StepTimer()
    policy = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)  # TRL's default dtype
    trainer = GRPOTrainer(model=policy, reward_funcs=[accuracy], args=args, train_dataset=Dataset.from_list(rows),
                          processing_class=AutoTokenizer.from_pretrained(model), callbacks=[timer])
    t0 = time.time()
    trainer.train()
    wall = time.time() - t0
    logs = [h for h in trainer.state.log_history if "reward" in h]
    return {"reward": [h["reward"] for h in logs], "step_s": timer.times,
            "length": [h.get("completions/mean_length", float("nan")) for h in logs], "wall_s": wall}


def mean_over(runs, key, first, last):
    per_seed = [statistics.mean(r[key][first - 1:last]) for r in runs]
    return statistics.mean(per_seed), per_seed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grpo", required=True)
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=MODEL_DIR[,key=value...] for grpo.cpp runs (config overrides after the directory)")
    ap.add_argument("--trl-model", help="model directory for TRL (omit to skip TRL)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="side_by_side_")
    data, records = generate_data(a.grpo, workdir)
    result = {"steps": a.steps, "seeds": a.seeds, "runs": {}}
    for spec in a.variant:
        name, rest = spec.split("=", 1)
        model, *overrides = rest.split(",")
        result["runs"][f"grpo.cpp {name}"] = [run_grpo(a.grpo, model, overrides, data, s, a.steps, workdir, name)
                                              for s in a.seeds]
        json.dump(result, open(a.out, "w"), indent=1)
    if a.trl_model:
        result["runs"]["TRL"] = [run_trl(a.grpo, a.trl_model, records, s, a.steps, workdir) for s in a.seeds]
    json.dump(result, open(a.out, "w"), indent=1)
    print("| run | mean reward steps 1-%d (per seed) | reward step 1 -> %d | median step s |" % (a.steps, a.steps))
    print("|---|---|---|---|")
    for name, runs in result["runs"].items():
        m, per = mean_over(runs, "reward", 1, a.steps)
        first = statistics.mean(r["reward"][0] for r in runs)
        last = statistics.mean(r["reward"][-1] for r in runs)
        step = statistics.median(t for r in runs for t in r["step_s"][1:])
        parts = "".join(f", {k[:-2]} {statistics.median(t for r in runs for t in r[k][1:]):.2f}"
                        for k in ("rollout_s", "learner_s") if k in runs[0])
        print(f"| {name} | {m:.3f} ({', '.join(f'{p:.3f}' for p in per)}) | {first:.3f} -> {last:.3f} | "
              f"{step:.2f}{parts} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
