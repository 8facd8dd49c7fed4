"""Baseline for bench_tokenizer: encode throughput of Hugging Face `tokenizers` (pip install
tokenizers) on the same documents and tokenizer.json. Prints one JSON object. Documents are
read from --text, separated by the ASCII record separator (0x1E). One thread = a loop of
encode(); all threads = encode_batch() (Rayon, all cores). Not a general benchmark tool."""
import argparse
import json
import os
import statistics
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokenizer", required=True, help="tokenizer.json file or a directory holding one")
    p.add_argument("--text", required=True)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    import tokenizers
    from tokenizers import Tokenizer

    path = a.tokenizer
    if os.path.isdir(path):
        path = os.path.join(path, "tokenizer.json")
    tok = Tokenizer.from_file(path)
    with open(a.text, encoding="utf-8") as f:
        docs = f.read().split("\x1e")
    total_bytes = sum(len(d.encode("utf-8")) for d in docs)

    def one_thread():
        return sum(len(tok.encode(d, add_special_tokens=False).ids) for d in docs)

    def all_threads():
        return sum(len(e.ids) for e in tok.encode_batch(docs, add_special_tokens=False))

    result = {"library": "tokenizers " + tokenizers.__version__, "bytes": total_bytes}
    for name, fn in (("one_thread", one_thread), ("all_threads", all_threads)):
        tokens = fn()  # warm-up: fills the BPE cache the way a long run would
        times = []
        for _ in range(a.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        result[name + "_mb_per_s"] = total_bytes / 1e6 / statistics.median(times)
        result["tokens"] = tokens
    print(json.dumps(result))


if __name__ == "__main__":
    main()
