#!/usr/bin/env python3
"""The math-answer agreement corpus and math-verify's side of the comparison.

`--out FILE` writes a deterministic corpus of (gold, prediction) pairs across many answer
styles as JSONL: {"style", "gold", "completion", "expected", "math_verify"}; `expected` is the
verdict by construction, `math_verify` is math-verify's (pip install math-verify), scored as
open-r1 does it: gold parsed from "$\\boxed{gold}$", the completion parsed whole.
`--time FILE` re-scores an existing corpus and prints {"pairs_per_s": ...} as JSON: the
baseline that bench/rewards/math_accuracy_bench compares against. It does not score ours.
"""
import argparse
import json
import random
import sys
import time


def completion(pred, rng):
    templates = [
        "Let me work it out. So the result is $\\boxed{%s}$.",
        "<think>compute carefully</think> The final answer is $\\boxed{%s}$",
        "We simplify step by step and get\n\\[\\boxed{%s}\\]",
    ]
    return rng.choice(templates) % pred


def styles(rng):
    """Yields (style, gold, prediction, expected)."""
    for _ in range(40):
        n = rng.randint(-999, 9999)
        yield "integer", str(n), str(n), True
        yield "integer_wrong", str(n), str(n + rng.choice([-2, -1, 1, 10])), False
    for _ in range(30):
        a = rng.randint(1, 999) / 100
        yield "decimal_trailing_zero", f"{a:.2f}", f"{a:.2f}0", True
        yield "decimal_wrong", f"{a:.2f}", f"{a + 0.01:.2f}", False
    for _ in range(40):
        p, q = rng.randint(1, 20), rng.randint(2, 20)
        frac = f"\\frac{{{p}}}{{{q}}}"
        yield "fraction_same", frac, f"\\dfrac{{{p}}}{{{q}}}", True
        yield "fraction_vs_slash", frac, f"{p}/{q}", True
        if (10 ** 6 * p) % q == 0:
            yield "fraction_vs_exact_decimal", frac, repr(p / q), True
        yield "fraction_vs_rounded_decimal", frac, f"{p / q:.2f}", abs(round(p / q, 2) - p / q) < 1e-9
        yield "fraction_unreduced", frac, f"\\frac{{{2 * p}}}{{{2 * q}}}", True
        yield "fraction_wrong", frac, f"\\frac{{{p + 1}}}{{{q}}}", False
    for _ in range(20):
        w, p, q = rng.randint(1, 9), rng.randint(1, 4), rng.randint(5, 9)
        yield "mixed_number", f"{w}\\frac{{{p}}}{{{q}}}", f"\\frac{{{w * q + p}}}{{{q}}}", True
    for _ in range(25):
        n = rng.randint(1000, 9999999)
        yield "thousands_separator", str(n), f"{n:,}", True
        yield "thousands_latex_comma", str(n), f"{n:,}".replace(",", "{,}"), True
    for _ in range(20):
        n = rng.randint(1, 99)
        yield "percent_vs_number", str(n), f"{n}\\%", True
        yield "units_text", str(n), f"{n}\\text{{ cm}}", True
        yield "units_dollars", str(n), f"\\${n}", True
        yield "degrees", str(n), f"{n}^\\circ", True
    for _ in range(30):
        a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7])
        yield "sqrt_same", f"{a}\\sqrt{{{b}}}", f"{a}\\sqrt{b}", True
        yield "sqrt_combined", f"{a}\\sqrt{{{b}}}", f"\\sqrt{{{a * a * b}}}", True
        yield "sqrt_wrong", f"{a}\\sqrt{{{b}}}", f"{a + 1}\\sqrt{{{b}}}", False
    for _ in range(25):
        a, b = rng.randint(1, 9), rng.randint(2, 6)
        yield "pi_multiple", f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}\\pi", True
        yield "pi_wrong", f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a + 1}\\pi}}{{{b}}}", False
    for _ in range(20):
        a, e = rng.randint(1, 9), rng.randint(3, 8)
        yield "scientific", str(a * 10 ** e), f"{a}\\times 10^{{{e}}}", True
        yield "power", str(2 ** e), f"2^{{{e}}}", True
    for _ in range(30):
        x, y = rng.randint(-9, 9), rng.randint(-9, 9)
        yield "tuple_same", f"({x}, {y})", f"\\left({x},{y}\\right)", True
        if x != y:
            yield "tuple_swapped", f"({x}, {y})", f"({y}, {x})", False
    for _ in range(25):
        lo, hi = rng.randint(-9, 0), rng.randint(1, 9)
        yield "interval_same", f"[{lo}, {hi})", f"[{lo},{hi})", True
        yield "interval_bracket_wrong", f"[{lo}, {hi})", f"[{lo}, {hi}]", False
        yield "interval_infinite", f"(-\\infty, {hi}]", f"(-\\infty,{hi}]", True
    for _ in range(25):
        items = rng.sample(range(-9, 10), 3)
        shuffled = items[:]
        rng.shuffle(shuffled)
        gold = ", ".join(map(str, items))
        yield "set_braces_reordered", f"\\{{{gold}\\}}", "\\{" + ", ".join(map(str, shuffled)) + "\\}", True
        yield "list_reordered", gold, ", ".join(map(str, shuffled)), True
        yield "list_missing_element", gold, ", ".join(map(str, items[:2])), False
    for _ in range(30):
        a, b = rng.randint(1, 6), rng.randint(1, 6)
        yield "expression_expanded", f"(x+{a})(x+{b})", f"x^2+{a + b}x+{a * b}", True
        yield "expression_reordered", f"{a}x+{b}", f"{b}+{a}x", True
        yield "expression_wrong", f"(x+{a})(x+{b})", f"x^2+{a + b}x+{a * b + 1}", False
        yield "equation_prefix", f"{a}x+{b}", f"y = {a}x + {b}", True
        yield "variable_prefix", str(a), f"x = {a}", True
    for _ in range(15):
        day = rng.choice(["Monday", "Tuesday", "Friday"])
        other = "Sunday"
        yield "text_answer", f"\\text{{{day}}}", day, True
        yield "text_wrong", f"\\text{{{day}}}", other, False
        letter = rng.choice("ABCDE")
        yield "choice_letter", f"\\text{{({letter})}}", letter, True
        yield "choice_wrong", f"\\text{{({letter})}}", "ABCDE"[("ABCDE".index(letter) + 1) % 5], False
    for _ in range(15):
        big = str(rng.randint(10 ** 20, 10 ** 25))
        yield "huge_integer", big, big, True
        yield "huge_integer_off_by_one", big, str(int(big) + 1), False
    for _ in range(15):
        n = rng.randint(1, 99)
        yield "negative", f"-{n}", f"-{n}", True
        yield "negative_sign_lost", f"-{n}", f"{n}", False
    # Edge cases where graders reasonably differ; `expected` is a careful human's verdict.
    for _ in range(6):
        n = rng.randint(1, 99)
        yield "edge_percent_vs_fraction", f"{n}\\%", f"{n / 100}", True
        yield "edge_negative_exponent", f"10^{{-{n % 5 + 1}}}", f"{10 ** -(n % 5 + 1):.6f}", True
        yield "edge_rounded_irrational", f"\\sqrt{{{n + 1}}}", f"{(n + 1) ** 0.5:.6f}", (n + 1) ** 0.5 == round((n + 1) ** 0.5)
        yield "edge_plus_minus", f"\\pm {n}", f"{n}, -{n}", True
        yield "edge_named_solutions", f"{n}, {n + 1}", f"x={n}, x={n + 1}", True
        yield "edge_degrees_vs_radians", "90^\\circ", "\\frac{\\pi}{2}", False
        yield "edge_tiny_difference", f"{n}", f"{n}.0000001", False
        yield "edge_tuple_vs_set", f"({n}, {n + 1})", f"\\{{{n}, {n + 1}\\}}", False
        yield "edge_inequality", f"x > {n}", f"({n}, \\infty)", True
        yield "edge_implicit_times", f"{n}\\sqrt{{2}}", f"{n}*\\sqrt(2)", True
        yield "edge_trig_value", "\\frac{\\sqrt{3}}{2}", "\\sin 60^\\circ", True
        yield "edge_text_number", f"{n}", f"{n} apples", True


def build(path):
    from math_verify import parse, verify  # imported here so --help works without it
    rng = random.Random(20250704)
    count = 0
    with open(path, "w") as out:
        for style, gold, pred, expected in styles(rng):
            text = completion(pred, rng)
            try:
                mv = bool(verify(parse(f"$\\boxed{{{gold}}}$"), parse(text)))
            except Exception:  # math-verify raising counts as "not equal", as open-r1 does
                mv = False
            out.write(json.dumps({"style": style, "gold": gold, "completion": text, "expected": expected,
                                  "math_verify": mv}) + "\n")
            count += 1
    print(f"wrote {count} pairs to {path}", file=sys.stderr)


def time_corpus(path, repeats):
    from math_verify import parse, verify
    rows = [json.loads(line) for line in open(path)]
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for r in rows:
            try:
                verify(parse(f"$\\boxed{{{r['gold']}}}$"), parse(r["completion"]))
            except Exception:
                pass
        rates.append(len(rows) / (time.perf_counter() - start))
    rates.sort()
    print(json.dumps({"pairs_per_s": rates[len(rates) // 2], "pairs": len(rows), "repeats": repeats}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="write the corpus here")
    ap.add_argument("--time", help="time math-verify on this corpus")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if args.out:
        build(args.out)
    if args.time:
        time_corpus(args.time, args.repeats)


if __name__ == "__main__":
    main()
