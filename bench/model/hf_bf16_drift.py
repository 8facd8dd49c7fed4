# How far transformers' own bf16 forward drifts from the float32 logits of each fixture: the
# yardstick for grpo.cpp's bf16 parity test (tests/model/gpu_test.cpp). For every directory under
# FIXTURES/models it prints the max relative error of the logits and the share of positions whose
# error exceeds 2e-2 of the logits' range. Routing near-ties make the share nonzero for MoE
# fixtures in any bf16 implementation. Run on the GPU machine (torch + transformers).
#
#   python3 bench/model/hf_bf16_drift.py FIXTURES   -> one JSON object
import json
import pathlib
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def main():
    root = pathlib.Path(sys.argv[1]) / "models"
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        expected = load_file(str(d / "expected.safetensors"))
        model = AutoModelForCausalLM.from_pretrained(str(d), dtype=torch.bfloat16).to(device).eval()
        with torch.no_grad():
            logits = model(input_ids=expected["input_ids"].to(device)).logits.float().cpu()
        want = expected["logits"].float()
        scale = want.abs().max()
        per_position = (logits - want).abs().amax(-1) / scale
        out[d.name] = {"rel_err": ((logits - want).abs().max() / scale).item(),
                       "positions_over_2e-2": (per_position > 2e-2).float().mean().item()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
