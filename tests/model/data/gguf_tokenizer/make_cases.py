"""Regenerates the expected encodings in this folder: what transformers' own GGUF tokenizer
conversion does with a vocabulary that llama.cpp's converter would write for each tokenizer of
tests/fixtures/tokenizers and tests/tokenizer/data (sp_*). For each one it fills
tokenizer.ggml.* the way convert_hf_to_gguf.py does (tokens by id, control / user-defined /
byte / unknown types, "a b" merges for byte-level BPE; SentencePiece scores of -(merge rank)
and no merges for the sp_* ones), writes a vocabulary-only GGUF, loads it with
AutoTokenizer.from_pretrained(dir, gguf_file=...) and records ids and decodes per case.
gguf_tokenizer_test.cpp builds the same vocabularies in C++ and checks grpo.cpp's conversion
against these. Not run by the tests; run it by hand (needs transformers >= 5, tokenizers, gguf,
numpy, and torch, which transformers' GGUF reader imports):
    python3 tests/model/data/gguf_tokenizer/make_cases.py tests/fixtures/tokenizers
Made with transformers 5.25.0, tokenizers 0.23.3, gguf 0.19.0. Every GGUF is written with
architecture "llama": transformers 5.25 fails to build Qwen2Tokenizer from a "qwen2" GGUF, and the
conversion itself does not depend on the architecture for these vocabularies.
"""
import json
import os
import re
import sys
import tempfile

import gguf
import numpy as np
from tokenizers import Tokenizer
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL = os.path.join(HERE, "..", "..", "..", "tokenizer", "data")

# name -> (folder kind, GGUF metadata beyond the vocabulary)
VARIANTS = {
    "qwen2": ("shared", dict(model="gpt2", pre="qwen2", bos_id=0, eos_id=2, pad_id=0)),
    "llama3": ("shared", dict(model="gpt2", pre="llama-bpe", bos_id=1, eos_id=2, add_bos=False)),
    "deepseek_v3": ("shared", dict(model="gpt2", pre="deepseek-v3", bos_id=1, eos_id=2, add_bos=False)),
    "sp_llama2_legacy": ("local", dict(model="llama", pre="default", bos_id=1, eos_id=2, unk_id=0, add_bos=True, add_eos=True)),
    "sp_metaspace": ("local", dict(model="llama", pre="default", bos_id=1, eos_id=2, unk_id=0)),
}


def looks_special(t):  # convert_hf_to_gguf.py's does_token_look_special
    return t in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (t.startswith("<|") and t.endswith("|>")) or \
        (t.startswith("<\uff5c") and t.endswith("\uff5c>")) or (t.startswith("<unused") and t.endswith(">"))


def byte_level_vocab(path):
    j = json.load(open(path))
    tok = Tokenizer.from_file(path)
    by_id = {i: t for t, i in tok.get_vocab(with_added_tokens=True).items()}
    added = {a["id"]: a for a in j["added_tokens"]}
    tokens, types = [], []
    for i in range(max(by_id) + 1):
        if i not in by_id:
            tokens.append(f"[PAD{i}]"); types.append(5); continue
        t = by_id[i]
        if i in added and (added[i]["special"] or looks_special(t)):
            types.append(3)
        elif i in added:
            t = t.replace("\u2581", " "); types.append(4)
        else:
            types.append(1)
        tokens.append(t)
    merges = [" ".join(m) if isinstance(m, list) else m for m in j["model"]["merges"]]
    return dict(tokens=tokens, token_types=types, merges=merges)


def sentencepiece_vocab(path):
    j = json.load(open(path))
    model = j["model"]
    by_id = {i: t for t, i in model["vocab"].items()}
    by_id.update({a["id"]: a["content"] for a in j["added_tokens"]})
    rank = {}
    for r, m in enumerate(model["merges"]):
        left, right = m if isinstance(m, list) else m.split(" ")
        rank.setdefault(left + right, r)
    added = {a["id"]: a for a in j["added_tokens"]}
    tokens, types, scores = [], [], []
    for i in range(max(by_id) + 1):
        t = by_id[i]
        tokens.append(t)
        scores.append(-float(rank[t]) if t in rank else 0.0)
        if re.fullmatch(r"<0x[0-9A-F]{2}>", t): types.append(6)
        elif t == model.get("unk_token"): types.append(2)
        elif i in added and added[i]["special"]: types.append(3)
        elif i in added: types.append(4)
        else: types.append(1)
    return dict(tokens=tokens, token_types=types, scores=scores)


def write_gguf(v, path):
    w = gguf.GGUFWriter(path, "llama")
    w.add_context_length(2048); w.add_embedding_length(64); w.add_block_count(1); w.add_feed_forward_length(128)
    w.add_head_count(4); w.add_head_count_kv(4); w.add_layer_norm_rms_eps(1e-5); w.add_rope_freq_base(10000.0)
    w.add_vocab_size(len(v["tokens"]))
    w.add_tokenizer_model(v["model"]); w.add_tokenizer_pre(v["pre"])
    w.add_token_list(v["tokens"]); w.add_token_types(v["token_types"])
    if v.get("scores"): w.add_token_scores(v["scores"])
    if v.get("merges"): w.add_token_merges(v["merges"])
    for key, add in (("bos_id", w.add_bos_token_id), ("eos_id", w.add_eos_token_id),
                     ("unk_id", w.add_unk_token_id), ("pad_id", w.add_pad_token_id)):
        if key in v: add(v[key])
    if "add_bos" in v: w.add_add_bos_token(v["add_bos"])
    if "add_eos" in v: w.add_add_eos_token(v["add_eos"])
    w.add_tensor("token_embd.weight", np.zeros((len(v["tokens"]), 64), dtype=np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


def main():
    shared = sys.argv[1]
    for name, (kind, meta) in VARIANTS.items():
        folder = os.path.join(shared if kind == "shared" else LOCAL, name)
        tokenizer_json = os.path.join(folder, "tokenizer.json")
        v = dict(meta, **(byte_level_vocab(tokenizer_json) if meta["model"] == "gpt2" else sentencepiece_vocab(tokenizer_json)))
        with tempfile.TemporaryDirectory() as tmp:
            write_gguf(v, os.path.join(tmp, "vocab.gguf"))
            tok = AutoTokenizer.from_pretrained(tmp, gguf_file="vocab.gguf")
        cases = []
        for c in json.load(open(os.path.join(folder, "encode_cases.json")))["cases"]:
            ids = tok(c["text"])["input_ids"]
            cases.append({"text": c["text"], "ids": ids, "same_as_fixture": ids == c["ids"],
                          "ids_no_special": tok(c["text"], add_special_tokens=False)["input_ids"],
                          "decoded": tok.decode(ids), "decoded_skip_special": tok.decode(ids, skip_special_tokens=True)})
        out = {"tokenizer": f"{kind}:{name}", "gguf": meta, "cases": cases}
        with open(os.path.join(HERE, f"{name}.json"), "w") as f:
            json.dump(out, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
