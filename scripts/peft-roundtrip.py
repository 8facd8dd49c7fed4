# Checks that LoRA adapters cross between grpo.cpp and PEFT in both directions, by logits.
#  1. Ours -> PEFT: PeftModel.from_pretrained(BASE, OUR_ADAPTER) must give the logits of
#     `grpo model merge BASE OUR_ADAPTER MERGED` loaded in transformers (grpo.cpp's merged model is
#     its adapted model: tests/model/lora_test.cpp checks merged == unmerged to 1e-5).
#  2. PEFT -> ours: an adapter PEFT makes here with random A and B (init_lora_weights=False) on the
#     modules our adapter targets, saved by save_pretrained, merged by `grpo model merge`, must
#     give PeftModel's logits too.
# Run on a machine with torch, transformers and peft, from the repository root, after building:
#
#   python3 scripts/peft-roundtrip.py --base tests/fixtures/models/qwen2-tiny \
#       --adapter RUN_DIR/checkpoints/step-3 [--grpo build/cpu/cli/grpo] [--device cuda|cpu]
#
# (a LoRA run's checkpoint, or RUN_DIR/final/adapter). Prints one JSON object and exits non-zero
# when a relative logit error exceeds 1e-4 (float32). It does not test generation or bf16.
import argparse
import json
import subprocess
import sys
import tempfile

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM

TOLERANCE = 1e-4


def rel_err(a, b):
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float().cpu()


def base_model(path, device):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device).eval()


def merged_logits(grpo, base, adapter, ids, device):
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([grpo, "model", "merge", base, adapter, out], check=True, stdout=subprocess.DEVNULL)
        return logits(base_model(out, device), ids)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the base model's Hugging Face directory")
    ap.add_argument("--adapter", required=True, help="an adapter directory written by grpo.cpp")
    ap.add_argument("--grpo", default="build/cpu/cli/grpo")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    torch.manual_seed(0)
    vocab = base_model(args.base, "cpu").config.vocab_size
    ids = torch.randint(0, vocab, (2, 12)).to(args.device)
    res = {"base": args.base, "adapter": args.adapter, "device": args.device, "tolerance": TOLERANCE}

    peft_ours = PeftModel.from_pretrained(base_model(args.base, args.device), args.adapter).eval()
    ours = logits(peft_ours, ids)
    res["ours_to_peft_rel_err"] = rel_err(ours, merged_logits(args.grpo, args.base, args.adapter, ids, args.device))
    res["ours_adapter_changes_logits"] = rel_err(ours, logits(base_model(args.base, args.device), ids)) > 1e-6

    with tempfile.TemporaryDirectory() as made:
        # The modules our adapter adapts (dense, MLA, shared and per-expert names alike): the
        # names that exist in this architecture.
        targets = sorted(peft_ours.peft_config["default"].target_modules)
        config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, init_lora_weights=False, task_type="CAUSAL_LM")
        peft_made = get_peft_model(base_model(args.base, args.device), config).eval()
        peft_made.save_pretrained(made)
        theirs = logits(peft_made, ids)
        res["peft_to_ours_rel_err"] = rel_err(theirs, merged_logits(args.grpo, args.base, made, ids, args.device))

    res["ok"] = res["ours_to_peft_rel_err"] <= TOLERANCE and res["peft_to_ours_rel_err"] <= TOLERANCE
    print(json.dumps(res, indent=2))
    sys.exit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
