"""transformers' own reading of a GGUF file, as the reference for `grpo model import` (GPU machine
or any machine with transformers, torch and the `gguf` package).

1. Loads FILE.gguf with transformers (`from_pretrained(dir, gguf_file=...)`, float32: gguf-py's
   dequantization plus transformers' Q/K un-permutation) and compares every tensor of the
   directory grpo.cpp imported, bit for bit, and the logits of the two.
2. Compares the imported tokenizer (tokenizer.json + tokenizer_config.json) with transformers'
   GGUF tokenizer on a set of texts, and the chat template's rendering.
3. Writes the reference files the CPU `realmodel` tests read (tests/realmodel/data/NAME/):
   reference.safetensors: input_ids [P, T], last_logits [P, V] (float32 logits of the last
   position) and logsumexp [P, T] of every position, from the GGUF-loaded model on the CPU;
   reference.json: chat prompts rendered by the model's own template with their prompt ids and
   transformers' greedy continuation (stopping as generate() stops, stop token included), and
   tokenizer encode cases.
Prints one JSON line with the comparison results last.

Usage: python3 bench/parity/gguf_reference.py FILE.gguf IMPORTED_DIR OUT_DIR
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

CHAT_PROMPTS = [
    "What is 27 + 45?",
    "What is 93 - 58? Give the exact integer result.",
    "Name three primary colors.",
    "Write a haiku about the sea.",
    "What is the capital of France?",
    "Explain in one sentence what a prime number is.",
    "Translate 'good morning' into Spanish.",
    "List the first five even numbers.",
    "Who wrote Romeo and Juliet?",
    "What is 12 * 12?",
    "Give me a word that rhymes with cat.",
    "Is 17 a prime number? Answer yes or no.",
]
LOGIT_TEXTS = ["The quick brown fox jumps over the lazy dog because", "def fibonacci(n):\n    if n < 2:"]
ENCODE_TEXTS = [
    "Hello, world!", "  leading spaces and trailing  ", "1234567890 + 98765 = ?", "naïve café — déjà vu",
    "日本語のテキスト", "emoji 🎉🚀 done", "<|im_start|>user\nhi<|im_end|>\n", "tabs\tand\nnewlines\r\n",
    "don't you'll I'm we've", "x = [i**2 for i in range(10)]", "<think> reasoning </think> <answer> 42 </answer>",
    "ÀÉÎÕÜ ß ø å", "a" * 50, "\u200bzero width", "MiXeD CaSe WoRdS",
]
GREEDY_NEW_TOKENS = 48


def main():
    gguf_path, imported, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    gdir, gname = os.path.dirname(os.path.abspath(gguf_path)), os.path.basename(gguf_path)
    ref_tok = AutoTokenizer.from_pretrained(gdir, gguf_file=gname)
    ref = AutoModelForCausalLM.from_pretrained(gdir, gguf_file=gname, dtype=torch.float32).eval()
    result = {}

    # 1. Tensors, bit for bit; logits of transformers running either copy.
    ours = load_file(os.path.join(imported, "model.safetensors"))
    state = ref.state_dict()
    tied = ref.config.tie_word_embeddings
    expected_names = {k for k in state if not (tied and k == "lm_head.weight")}
    mismatched = [k for k in sorted(expected_names & ours.keys())
                  if ours[k].dtype != torch.float32 or ours[k].shape != state[k].shape
                  or not torch.equal(ours[k].view(torch.int32), state[k].contiguous().view(torch.int32))]
    result["tensors"] = {"reference": len(expected_names), "imported": len(ours),
                         "missing": sorted(expected_names - ours.keys()), "unexpected": sorted(ours.keys() - expected_names),
                         "not_bit_equal": mismatched[:20], "bit_equal": len(expected_names & ours.keys()) - len(mismatched)}
    imp = AutoModelForCausalLM.from_pretrained(imported, dtype=torch.float32).eval()
    imp_tok = AutoTokenizer.from_pretrained(imported)
    width = min(len(ref_tok(t).input_ids) for t in LOGIT_TEXTS)
    input_ids = torch.tensor([ref_tok(t).input_ids[:width] for t in LOGIT_TEXTS])
    with torch.no_grad():
        ref_logits = ref(input_ids).logits.float()
        imp_logits = imp(input_ids).logits.float()
    result["logits_max_abs_diff_transformers_gguf_vs_imported"] = (ref_logits - imp_logits).abs().max().item()
    save_file({"input_ids": input_ids.contiguous(), "last_logits": ref_logits[:, -1].contiguous(),
               "logsumexp": ref_logits.logsumexp(-1).contiguous()}, os.path.join(out, "reference.safetensors"))

    # 2. Tokenizer and template.
    encode_cases, tok_mismatch = [], []
    for text in ENCODE_TEXTS:
        for special in (False, True):
            want = ref_tok(text, add_special_tokens=special).input_ids
            got = imp_tok(text, add_special_tokens=special).input_ids
            encode_cases.append({"text": text, "add_special_tokens": special, "ids": want})
            if want != got:
                tok_mismatch.append(text)
    result["tokenizer_mismatches"] = tok_mismatch
    result["eos"] = {"gguf_generation_config": ref.generation_config.eos_token_id,
                     "imported_generation_config": imp.generation_config.eos_token_id,
                     "gguf_tokenizer_eos": ref_tok.eos_token, "imported_tokenizer_eos": imp_tok.eos_token}

    # 3. Greedy continuations from the model's own chat template, as generate() stops them.
    greedy, template_mismatch = [], []
    for prompt in CHAT_PROMPTS:
        messages = [{"role": "user", "content": prompt}]
        text = ref_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        if text != imp_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True):
            template_mismatch.append(prompt)
        ids = ref_tok(text, add_special_tokens=False, return_tensors="pt").input_ids
        with torch.no_grad():
            out_ids = ref.generate(ids, max_new_tokens=GREEDY_NEW_TOKENS, do_sample=False, top_k=None, top_p=None,
                                   temperature=None)[0, ids.shape[1]:].tolist()
        greedy.append({"user": prompt, "text": text, "prompt_ids": ids[0].tolist(), "greedy_ids": out_ids,
                       "completion": ref_tok.decode(out_ids)})
    result["template_mismatches"] = template_mismatch
    json.dump({"source": gname, "greedy_new_tokens": GREEDY_NEW_TOKENS,
               "stop_ids": ref.generation_config.eos_token_id, "greedy": greedy, "encode": encode_cases},
              open(os.path.join(out, "reference.json"), "w"), indent=1, ensure_ascii=False)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
