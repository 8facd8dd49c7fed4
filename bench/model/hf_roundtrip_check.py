# Checks that a directory saved by grpo.cpp (e.g. `grpo model resave SRC DST`) loads in
# transformers with no missing or unexpected weights (beyond an MTP module transformers ignores)
# and computes the same logits as a reference: the original directory loaded in transformers
# (--reference) and/or the logits stored in a fixture's expected.safetensors (--expected).
# Run on the GPU machine, where torch + transformers are installed. Prints one JSON object and
# exits non-zero when a comparison exceeds its tolerance. It does not test generation.
#
#   python3 bench/model/hf_roundtrip_check.py DST --reference SRC [--expected SRC/expected.safetensors]
#           [--dtype float32|bfloat16] [--device cuda|cpu]
import argparse
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def rel_err(a, b):
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def load(path, dtype, device):
    model, info = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, output_loading_info=True)
    return model.to(device).eval(), info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("saved")
    ap.add_argument("--reference")
    ap.add_argument("--expected")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    dtype = getattr(torch, args.dtype)
    tol = 1e-4 if dtype == torch.float32 else 2e-2
    res = {"saved": args.saved, "dtype": args.dtype, "device": args.device, "tolerance": tol}

    model, info = load(args.saved, dtype, args.device)
    mtp = [k for k in info.get("unexpected_keys", []) if ".layers." in k and "layers.%d." % model.config.num_hidden_layers in k]
    res["missing_keys"] = list(info.get("missing_keys", []))
    res["unexpected_keys"] = [k for k in info.get("unexpected_keys", []) if k not in mtp]
    res["ignored_mtp_keys"] = len(mtp)
    ok = not res["missing_keys"] and not res["unexpected_keys"]

    ids = None
    if args.expected:
        from safetensors.torch import load_file
        expected = load_file(args.expected)
        ids = expected["input_ids"].to(args.device)
    if ids is None:
        g = torch.Generator().manual_seed(0)
        ids = torch.randint(0, model.config.vocab_size, (2, 32), generator=g).to(args.device)
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float()
    if args.expected:
        res["rel_err_vs_expected"] = rel_err(logits.cpu(), expected["logits"].float())
        ok = ok and res["rel_err_vs_expected"] <= tol
    if args.reference:
        ref, _ = load(args.reference, dtype, args.device)
        with torch.no_grad():
            ref_logits = ref(input_ids=ids).logits.float()
        res["rel_err_vs_reference"] = rel_err(logits, ref_logits)
        ok = ok and res["rel_err_vs_reference"] <= tol
    res["pass"] = ok
    print(json.dumps(res))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
