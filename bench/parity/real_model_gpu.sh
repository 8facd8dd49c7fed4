#!/usr/bin/env bash
# The real-model checks on the GPU machine (device tool), in stages that consecutive calls of one
# warm lease run, because one call carries at most 64 MiB and the GGUF is 98 MB:
#   parts      copy the carried GGUF pieces (.gguf/*/smolpart.NN, from `split -d`) to /tmp
#   import     join them, check the SHA-256, import float32 and bf16 copies with the CUDA build's
#              `grpo model import`, and run bench/parity/gguf_reference.py (transformers reading
#              the GGUF itself) against the float32 import; its reference files land in $OUT
#   hfconvert  transformers' own conversion of the joined GGUF to float32 and (resaved by grpo)
#              bf16 directories under /tmp/real-model/hf-*, for runs that must not wait for the
#              importer (F32=... BF16=... select the directories the side-by-side uses)
#   sidebyside [SEEDS] [STEPS]  bench/parity/trl_side_by_side.py: grpo.cpp on both imports, TRL
#              on the float32 one; JSON in $OUT
#   hacking    [STEPS]  bench/parity/hacking_rerun.py (old reward rules vs the defaults); JSON in $OUT
#   grpo-only / trl-only  [SEEDS] [STEPS]  one side of it (JSON side_by_side_grpo.json / _trl.json)
# Python packages the machine lacks (gguf, trl, datasets, dill, multiprocess) travel as wheels
# in .whl (carry it); the CUDA build is scripts/gpu-check --skip-tests --skip-bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/real-model-out}"
mkdir -p "$OUT"
stage=$1; shift
G=build/cuda/cli/grpo
gguf=/tmp/real-model/SmolLM2-135M-Instruct.Q4_1.gguf
sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
if [ -d .whl ] && [ ! -f /tmp/site/.done ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  touch /tmp/site/.done
fi
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
case "$stage" in
  parts)
    mkdir -p /tmp/real-model/parts
    cp .gguf/*/smolpart.* /tmp/real-model/parts/
    ls -la /tmp/real-model/parts ;;
  import)
    cat /tmp/real-model/parts/smolpart.* > "$gguf"
    echo "$sha  $gguf" | sha256sum --check -
    rm -rf /tmp/real-model/f32 /tmp/real-model/bf16
    "$G" model import "$gguf" /tmp/real-model/f32
    "$G" model import "$gguf" /tmp/real-model/bf16 --dtype bfloat16
    "$G" model info "$gguf" | tee "$OUT/model_info_gguf.txt"
    "$G" model info /tmp/real-model/f32 | tee "$OUT/model_info_dir.txt"
    python3 bench/parity/gguf_reference.py "$gguf" /tmp/real-model/f32 "$OUT" | tee "$OUT/gguf_reference.json" ;;
  hfconvert)
    cat /tmp/real-model/parts/smolpart.* > "$gguf"
    echo "$sha  $gguf" | sha256sum --check -
    python3 - "$gguf" /tmp/real-model/hf-f32 <<'PY'
import os, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
gguf, out = sys.argv[1:3]
d, f = os.path.dirname(gguf), os.path.basename(gguf)
from safetensors.torch import save_file
m = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32)
os.makedirs(out, exist_ok=True)  # save_pretrained refuses a GGUF-loaded model: write its parts
tied = m.config.tie_word_embeddings
save_file({k: v.contiguous() for k, v in m.state_dict().items() if not (tied and k == "lm_head.weight")},
          os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
if hasattr(m.config, "quantization_config"):
    del m.config.quantization_config
m.config.save_pretrained(out)
m.generation_config.save_pretrained(out)
AutoTokenizer.from_pretrained(d, gguf_file=f).save_pretrained(out)
PY
    rm -rf /tmp/real-model/hf-bf16
    "$G" model resave /tmp/real-model/hf-f32 /tmp/real-model/hf-bf16 --dtype bfloat16
    ls -la /tmp/real-model/hf-f32 ;;
  sidebyside|grpo-only|trl-only)
    seeds=${1:-"0 1 2"}; steps=${2:-15}
    f32=${F32:-/tmp/real-model/f32}; bf16=${BF16:-/tmp/real-model/bf16}
    ours=(--variant exact="$f32" --variant bf16="$bf16"); trl=(--trl-model "$f32"); name=side_by_side
    [ "$stage" = grpo-only ] && trl=() && name=side_by_side_grpo
    [ "$stage" = trl-only ] && ours=() && name=side_by_side_trl
    # shellcheck disable=SC2086
    python3 bench/parity/trl_side_by_side.py --grpo "$G" "${ours[@]}" "${trl[@]}" --seeds $seeds --steps "$steps" \
      --out "$OUT/$name.json" ;;
  hacking)
    python3 bench/parity/hacking_rerun.py --grpo "$G" --model "${F32:-/tmp/real-model/f32}" --steps "${1:-60}" \
      --out "$OUT/hacking_rerun.json" ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
esac
