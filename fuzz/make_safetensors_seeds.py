#!/usr/bin/env python3
"""Writes the seed corpus of safetensors_header_fuzz: the headers of the fixture checkpoints
(tests/fixtures/models/*/model.safetensors and one expected.safetensors) with every dimension cut
to at most 2, so that a seed keeps the real tensor names, dtypes and header layout but holds only
a few hundred bytes of data, plus one file with every dtype, an empty tensor and metadata. Run
from the repository root; writes the seed-* files into the working corpus
(build-fuzz/corpus/safetensors_header_fuzz/), from which
`scripts/run-fuzz --minimize safetensors_header_fuzz` adds them under their names to the committed
archive fuzz/corpus/safetensors_header_fuzz.tar.xz."""
import json
import pathlib
import struct

OUT = pathlib.Path("build-fuzz/corpus/safetensors_header_fuzz")
FIXTURES = pathlib.Path("tests/fixtures/models")
DTYPE_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2,
              "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def safetensors(tensors, metadata):
    """tensors: [(name, dtype, shape)] written contiguously with zero bytes, as the writer does."""
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        nbytes = DTYPE_SIZE[dtype]
        for d in shape:
            nbytes *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(offset)


def read_header(path):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    # The fixtures' expected.safetensors share one layout; one of them is enough.
    for path in sorted(FIXTURES.glob("*/model.safetensors")) + [FIXTURES / "llama-tiny/expected.safetensors"]:
        header = read_header(path)
        metadata = header.pop("__metadata__", None)
        tensors = [(name, e["dtype"], [min(d, 2) for d in e["shape"]]) for name, e in sorted(header.items())]
        (OUT / f"seed-{path.parent.name}-{path.stem}").write_bytes(safetensors(tensors, metadata))
    every = [(f"t.{dtype.lower()}", dtype, [2, 1]) for dtype in DTYPE_SIZE] + [("empty", "F32", [0, 3])]
    (OUT / "seed-every-dtype").write_bytes(safetensors(every, {"format": "pt", "note": "seed"}))


if __name__ == "__main__":
    main()
