#!/usr/bin/env python3
"""Writes the seed corpus of gguf_file_fuzz: tiny valid GGUF files covering every metadata value
type, arrays, several tensor types and a custom alignment, so the fuzzer starts past the header
checks, and the regression inputs it found. Run from the repository root; writes the seed-*.gguf
and regression-*.gguf files into the working corpus (build-fuzz/corpus/gguf_file_fuzz/), from
which `scripts/run-fuzz --minimize gguf_file_fuzz` adds them under their names to the committed
archive fuzz/corpus/gguf_file_fuzz.tar.xz."""
import pathlib
import struct

OUT = pathlib.Path("build-fuzz/corpus/gguf_file_fuzz")
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(vtype, v):
    if vtype == 8:
        return string(v)
    if vtype == 9:
        etype, items = v
        return struct.pack("<IQ", etype, len(items)) + b"".join(value(etype, x) for x in items)
    return struct.pack(SCALARS[vtype], v)


def gguf(version, metadata, tensors, alignment=32):
    """metadata: [(key, type, value)]; tensors: [(name, dims, ggml type, data bytes)]."""
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(metadata))
    head += b"".join(string(k) + struct.pack("<I", t) + value(t, v) for k, t, v in metadata)
    offset, infos, blobs = 0, b"", b""
    for name, dims, ttype, data in tensors:
        infos += string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ttype, offset)
        padded = data + b"\0" * (-len(data) % alignment)
        blobs += padded
        offset += len(padded)
    body = head + infos
    return body + b"\0" * (-len(body) % alignment) + blobs


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0)
    (OUT / "seed-llama-f32.gguf").write_bytes(gguf(3, [
        ("general.architecture", 8, "llama"), ("general.alignment", 4, 32), ("llama.block_count", 4, 1),
        ("llama.rope.freq_base", 6, 10000.0)], [("token_embd.weight", [4], 0, f32)]))
    q8_0 = struct.pack("<e", 0.25) + bytes(range(32))
    f16 = struct.pack("<6e", 1, 2, 3, 4, 5, 6)
    (OUT / "seed-vocab-quant.gguf").write_bytes(gguf(3, [
        ("general.architecture", 8, "qwen2"), ("general.alignment", 4, 64),
        ("tokenizer.ggml.model", 8, "gpt2"), ("tokenizer.ggml.tokens", 9, (8, ["a", "b", "\u0120c"])),
        ("tokenizer.ggml.scores", 9, (6, [0.0, -1.0, -2.0])), ("tokenizer.ggml.token_type", 9, (5, [1, 1, 3])),
        ("tokenizer.ggml.merges", 9, (8, ["a b"])), ("tokenizer.ggml.eos_token_id", 4, 2)],
        [("blk.0.attn_q.weight", [32], 8, q8_0), ("output_norm.weight", [3, 2], 1, f16)], alignment=64))
    (OUT / "seed-v2-scalars.gguf").write_bytes(gguf(2, [
        ("u8", 0, 7), ("i8", 1, -7), ("u16", 2, 700), ("i16", 3, -700), ("u32", 4, 70000), ("i32", 5, -70000),
        ("f32", 6, 1.5), ("bool", 7, True), ("string", 8, "caf\u00e9"), ("u64", 10, 2**40), ("i64", 11, -2**40),
        ("f64", 12, 2.25), ("bools", 9, (7, [True, False])), ("u64s", 9, (10, [1, 2**63]))], []))
    # Found by the fuzzer (UBSan): empty numeric arrays were copied from a null pointer.
    (OUT / "regression-empty-arrays.gguf").write_bytes(gguf(3, [
        ("tokenizer.ggml.scores", 9, (6, [])), ("tokenizer.ggml.token_type", 9, (5, []))], []))


if __name__ == "__main__":
    main()
