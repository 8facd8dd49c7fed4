"""Regenerates the tokenizer.json variants and expected encodings in this folder with Hugging
Face `tokenizers` (pip install tokenizers). Each subfolder gets tokenizer.json and
encode_cases.json in the format of tests/fixtures/tokenizers, plus ids_no_special and
decoded_skip_special per case. The variants cover what the shared fixtures do not:
SentencePiece-style BPE (Metaspace, Prepend/Replace, byte fallback), ByteLevel's own regex
and add_prefix_space, every Split behavior, Digits, added-token flags, NFKC, templates.
Not run by the tests; run it by hand when a variant changes:
    python3 tests/tokenizer/data/make_hf_cases.py tests/fixtures/tokenizers
"""
import json
import os
import random
import sys

from tokenizers import AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
PIECES = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") * 3 + list("0123456789") * 2 +
          list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + [" "] * 12 +
          ["\t", "\n", "\r\n", "\u00a0", "\u2003", "\u3000", "\u200b"] + list("éüñÉÅ") + ["e\u0301", "\u0301"] +
          list("数学问题答案カタカナひらがな") + list("Ωμέγαпривет") + ["😀", "🇫🇷", "👍🏽"] +
          ["'s", "'LL", "<|endoftext|>", "<|im_start|>", "<think>", "</answer>", "XY", "zq", "▁", "١٢", "½", "ﬁ"])
CURATED = ["Hello world", " leading and trailing ", "x=12345.678e-9", "a  XY  b", "zq azq zq_ zq.", "ﬁne ½ Ωμ",
           "<think>2+2</think> <answer>4</answer>", "", " ", "\n\n", "tab\t\tend", "▁already▁spaced"]


def random_text(rng):
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 30)))


def write_cases(name, tok):
    rng = random.Random(name)
    texts = CURATED + [random_text(rng) for _ in range(40)]
    cases = []
    for t in texts:
        enc = tok.encode(t, add_special_tokens=True)
        cases.append({"text": t, "ids": enc.ids, "tokens": enc.tokens,
                      "decoded": tok.decode(enc.ids, skip_special_tokens=False),
                      "ids_no_special": tok.encode(t, add_special_tokens=False).ids,
                      "decoded_skip_special": tok.decode(enc.ids, skip_special_tokens=True)})
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "encode_cases.json"), "w") as f:
        json.dump({"cases": cases}, f, ensure_ascii=False, indent=1)


def sentencepiece_style(legacy):
    rng = random.Random(0)
    words = "the quick brown fox jumps over lazy dog math answer think reason step solve".split()
    corpus = [" ".join(rng.choice(words) for _ in range(12)) + " 12 + 7 = 19." for _ in range(300)]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if legacy:  # Llama-2 style
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
        tok.decoder = decoders.Sequence([decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True),
                                         decoders.ByteFallback(), decoders.Fuse()])
    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False))
    tok.add_tokens([AddedToken("<think>", normalized=False), AddedToken("</think>", normalized=False)])
    single = "<s> $A </s>" if legacy else "<s> $A"
    tok.post_processor = processors.TemplateProcessing(single=single, special_tokens=[("<s>", 1), ("</s>", 2)])
    return tok


def variant(base_dir, mutate):
    with open(os.path.join(base_dir, "tokenizer.json")) as f:
        j = json.load(f)
    mutate(j)
    return Tokenizer.from_str(json.dumps(j))


def byte_level_regex(j):
    j["pre_tokenizer"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}


def split_behaviors(j):
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\s+"}, "behavior": "MergedWithNext", "invert": False},
        {"type": "Split", "pattern": {"String": ","}, "behavior": "MergedWithPrevious", "invert": False},
        {"type": "Split", "pattern": {"Regex": "\\p{P}"}, "behavior": "Contiguous", "invert": True},
        {"type": "Split", "pattern": {"Regex": "[xyz]"}, "behavior": "Removed", "invert": False},
        {"type": "Digits", "individual_digits": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}


def added_flags(j):
    j["added_tokens"] += [
        {"id": 941, "content": "XY", "single_word": False, "lstrip": True, "rstrip": True, "normalized": False, "special": False},
        {"id": 942, "content": "zq", "single_word": True, "lstrip": False, "rstrip": False, "normalized": True, "special": False},
        {"id": 943, "content": "Ωμ", "single_word": False, "lstrip": False, "rstrip": True, "normalized": True, "special": True}]
    j["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKC"}]}
    j["post_processor"] = {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "<|im_start|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [], "special_tokens": {"<|im_start|>": {"id": "<|im_start|>", "ids": [1], "tokens": ["<|im_start|>"]}}}
    j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]


def main():
    shared = sys.argv[1]
    write_cases("sp_metaspace", sentencepiece_style(legacy=False))
    write_cases("sp_llama2_legacy", sentencepiece_style(legacy=True))
    write_cases("bytelevel_regex_prefix_space", variant(os.path.join(shared, "qwen2"), byte_level_regex))
    write_cases("split_behaviors", variant(os.path.join(shared, "llama3"), split_behaviors))
    write_cases("added_token_flags", variant(os.path.join(shared, "qwen2"), added_flags))


if __name__ == "__main__":
    main()
