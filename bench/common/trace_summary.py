#!/usr/bin/env python3
"""Folds a Chrome trace written by bench/common/kernel_profile.h into GPU time per kernel.

Usage: trace_summary.py TRACE.json [--top N]
Prints one JSON object: the span from the first to the last GPU activity, the busy time (sum of
kernel and memcpy/memset durations), and the top N names by total time with count and share.
Kernel names are shortened to their first 90 characters (templated CUDA names run for pages).
"host" says where a host-bound step spends its time: how many operators ran and kernels were
launched, and the operators called most often with their inclusive host time (an operator's time
includes the operators it calls).
"launchers" names, for each top kernel, the operators that launched it: the innermost operators
(up to three, innermost first) enclosing the launch call whose correlation id the kernel carries.
"""
import argparse
import collections
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    with open(args.trace) as f:
        events = json.load(f).get("traceEvents", [])
    gpu = [e for e in events if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    if not gpu:
        print(json.dumps({"error": "no GPU activity in " + args.trace}))
        return
    total = collections.defaultdict(float)
    count = collections.Counter()
    for e in gpu:
        name = e.get("name", "?")[:90]
        total[name] += float(e.get("dur", 0))
        count[name] += 1
    busy = sum(total.values())
    start = min(float(e["ts"]) for e in gpu)
    end = max(float(e["ts"]) + float(e.get("dur", 0)) for e in gpu)
    top = sorted(total.items(), key=lambda kv: -kv[1])[: args.top]
    ops = [e for e in events if e.get("ph") == "X" and e.get("cat") == "cpu_op"]
    launches = [e for e in events if e.get("ph") == "X" and e.get("cat") == "cuda_runtime"
                and "Launch" in e.get("name", "")]
    op_ms = collections.defaultdict(float)
    op_count = collections.Counter()
    for e in ops:
        op_ms[e.get("name", "?")] += float(e.get("dur", 0)) / 1e3
        op_count[e.get("name", "?")] += 1
    host = {
        "ops": len(ops),
        "launches": len(launches),
        "launch_ms": round(sum(float(e.get("dur", 0)) for e in launches) / 1e3, 3),
        "frequent_ops": [{"name": n, "count": c, "inclusive_ms": round(op_ms[n], 3)}
                         for n, c in op_count.most_common(args.top)],
    }
    launchers = kernel_launchers(gpu, ops, launches, {n for n, _ in top})
    launchers = kernel_launchers(gpu, ops, launches, {n for n, _ in top})
    print(json.dumps({
        "span_ms": (end - start) / 1e3,
        "busy_ms": busy / 1e3,
        "kernels": len(gpu),
        "top": [{"name": n, "ms": round(t / 1e3, 3), "count": count[n], "share": round(t / busy, 4)} for n, t in top],
        "host": host,
        "launchers": launchers,
    }))


def kernel_launchers(gpu, ops, launches, names):
    """{kernel name: {"op < parent < grandparent": count}} for the kernels in `names`."""
    by_correlation = {}
    for e in launches:
        corr = e.get("args", {}).get("correlation")
        if corr is not None:
            by_correlation[corr] = e
    ops_by_tid = collections.defaultdict(list)
    for e in ops:
        ops_by_tid[e.get("tid")].append((float(e["ts"]), float(e["ts"]) + float(e.get("dur", 0)), e.get("name", "?")))
    for spans in ops_by_tid.values():
        spans.sort()
    out = collections.defaultdict(collections.Counter)
    for k in gpu:
        name = k.get("name", "?")[:90]
        launch = by_correlation.get(k.get("args", {}).get("correlation"))
        if name not in names or launch is None:
            continue
        t = float(launch["ts"])
        enclosing = [s for s in ops_by_tid.get(launch.get("tid"), []) if s[0] <= t <= s[1]]
        enclosing.sort(key=lambda s: s[1] - s[0])  # innermost (shortest) first
        out[name][" < ".join(s[2] for s in enclosing[:3]) or "?"] += 1
    return {n: dict(c.most_common(4)) for n, c in out.items()}


if __name__ == "__main__":
    main()
