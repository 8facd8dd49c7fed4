"""gguf-py's dequantization as the reference for grpo.cpp's (model/gguf/gguf_dequantize.cpp).

transformers' GGUF loader dequantizes with `gguf.quants.dequantize`; grpo.cpp must give the same
float32 bits. Needs `pip install gguf==0.19.0 numpy` (no torch, no transformers).

1. `--blocks OUT.bin` writes, for every type grpo.cpp dequantizes, random raw blocks (random bytes
   with sane float16 scales, subnormal and zero scales included) and gguf-py's float32 values,
   for tests/model/gguf_dequantize_test.cpp. Deterministic (fixed seed). Format, little-endian:
   b"GGDQ", u32 version 1, u32 entry count; per entry: u32 ggml type id, u32 element count,
   u64 raw byte count, the raw bytes, then element count float32 values.
2. `--gguf FILE.gguf --compare DIR` dequantizes every tensor of a real file with gguf-py, names
   and un-permutes it as transformers' GGUF loader does for llama (Q with the attention heads, K
   with the KV heads; qwen2 is not permuted), and compares it bit for bit with DIR/model.safetensors
   written by `grpo model import FILE.gguf DIR` (float32). Prints one JSON line; exits 1 on any
   difference.
"""
import argparse
import json
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

# Byte offsets of the float16 scale fields in a block, per type.
SCALE_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
# Blocks per quantized type: enough to cover every bit pattern often, small enough to commit.
BLOCKS = {T.Q4_0: 128, T.Q4_1: 128, T.Q5_0: 128, T.Q5_1: 128, T.Q8_0: 128, T.Q4_K: 32, T.Q5_K: 32, T.Q6_K: 32}
FLOAT_ELEMENTS = 1024


def sane_halves(rng, n):
    """float16 scales: magnitudes 1e-7..1 (subnormals included), random signs, some zeros."""
    values = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-7, 0, n)
    values[rng.random(n) < 0.05] = 0.0
    values[rng.random(n) < 0.02] = -0.0
    return values.astype(np.float16)


def random_blocks(rng, qtype):
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    n = BLOCKS[qtype]
    raw = rng.integers(0, 256, (n, type_size), dtype=np.uint8)
    for offset in SCALE_FIELDS[qtype]:
        raw[:, offset:offset + 2] = sane_halves(rng, n).view(np.uint8).reshape(n, 2)
    return raw, n * block_size


def random_floats(rng, qtype):
    values = rng.standard_normal(FLOAT_ELEMENTS) * 10.0 ** rng.uniform(-8, 3, FLOAT_ELEMENTS)
    if qtype == T.F32:
        raw = values.astype(np.float32).view(np.uint8)
    elif qtype == T.F16:
        raw = values.astype(np.float16).view(np.uint8)
    else:  # BF16: the upper half of float32 values
        raw = (values.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    return raw.reshape(1, -1), FLOAT_ELEMENTS


def write_blocks(path):
    rng = np.random.default_rng(20260606)
    entries = []
    for qtype in [T.F32, T.F16, T.BF16]:
        entries.append((qtype, *random_floats(rng, qtype)))
    for qtype in BLOCKS:
        entries.append((qtype, *random_blocks(rng, qtype)))
    with open(path, "wb") as f:
        f.write(b"GGDQ" + struct.pack("<II", 1, len(entries)))
        for qtype, raw, n in entries:
            values = dequantize(raw, qtype).astype(np.float32, copy=False).reshape(-1)
            assert values.size == n
            f.write(struct.pack("<IIQ", int(qtype), n, raw.nbytes))
            f.write(raw.tobytes())
            f.write(values.tobytes())
    print(json.dumps({"written": path, "entries": [(T(q).name, n) for q, _, n in entries]}))


LAYER_PARTS = {
    "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
TOP_PARTS = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


def hf_name(name):
    stem, kind = name.rsplit(".", 1)
    if stem in TOP_PARTS:
        return f"{TOP_PARTS[stem]}.{kind}"
    _, layer, part = stem.split(".", 2)
    return f"model.layers.{layer}.{LAYER_PARTS[part]}.{kind}"


def reverse_permute(w, n_head):
    """transformers' reverse_permute_weights (modeling_gguf_pytorch_utils.py)."""
    dim = w.shape[0] // n_head // 2
    return w.reshape(n_head, dim, 2, *w.shape[1:]).swapaxes(2, 1).reshape(w.shape)


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    assert all(v["dtype"] == "F32" for v in header.values()), "compare a float32 import"
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=np.float32).reshape(v["shape"])
            for k, v in header.items()}


def compare(gguf_path, imported_dir):
    reader = GGUFReader(gguf_path)
    field = lambda key: reader.fields[key].contents()
    arch = field("general.architecture")
    heads = int(field(f"{arch}.attention.head_count"))
    kv_heads = int(field(f"{arch}.attention.head_count_kv"))
    ours = read_safetensors(f"{imported_dir}/model.safetensors")
    result = {"file": gguf_path, "architecture": arch, "tensors": 0, "bit_equal": 0, "types": {}, "mismatches": []}
    for t in reader.tensors:
        name = hf_name(t.name)
        values = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
        values = values.reshape(tuple(int(d) for d in reversed(t.shape)))
        if arch == "llama" and ".attn_q." in t.name:
            values = reverse_permute(values, heads)
        if arch == "llama" and ".attn_k." in t.name:
            values = reverse_permute(values, kv_heads)
        result["tensors"] += 1
        result["types"][t.tensor_type.name] = result["types"].get(t.tensor_type.name, 0) + 1
        mine = ours.get(name)
        if mine is not None and mine.shape == values.shape and mine.tobytes() == np.ascontiguousarray(values).tobytes():
            result["bit_equal"] += 1
        else:
            result["mismatches"].append(name)
    result["extra_in_import"] = sorted(set(ours) - {hf_name(t.name) for t in reader.tensors})
    print(json.dumps(result))
    return not result["mismatches"] and not result["extra_in_import"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", help="write the random-block reference file here")
    parser.add_argument("--gguf", help="a real GGUF file to compare")
    parser.add_argument("--compare", help="the directory `grpo model import` wrote from --gguf (float32)")
    args = parser.parse_args()
    if args.blocks:
        write_blocks(args.blocks)
    if args.gguf:
        if not args.compare:
            parser.error("--gguf needs --compare DIR")
        if not compare(args.gguf, args.compare):
            sys.exit(1)
    if not args.blocks and not args.gguf:
        parser.error("nothing to do: pass --blocks and/or --gguf with --compare")


if __name__ == "__main__":
    main()
