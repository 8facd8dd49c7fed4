#!/usr/bin/env python3
"""The math-answer agreement corpus and math-verify's side of the comparison.

`--out FILE` writes a deterministic (seeded) corpus of (gold, completion) pairs in the answer
styles real completions use (GSM8K integers with separators, units and currency; MATH and
MATH-500 fractions, radicals, multiples of pi, expressions, intervals, inequalities, tuples,
sets, +-, degrees, \\text{} answers, multiple answers; scientific notation; percentages;
rounded decimals) as JSONL: {"style", "gold", "completion", "expected", "math_verify"}.
`expected` is the verdict by construction: what a careful human grader says. `math_verify` is
math-verify's (pip install math-verify): the gold parsed from "$\\boxed{gold}$", the completion
parsed whole, both with math-verify's default extraction, and `verify(gold, completion)` with
its defaults; an exception counts as "not equal", as open-r1 does.
The committed copy is tests/rewards/data/math_verify_corpus.jsonl (math-verify 0.9.0, sympy
1.14): tests/rewards/math_verify_agreement_test.cpp checks our agreement on it without Python.
`--time FILE` re-scores an existing corpus and prints {"pairs_per_s": ...} as JSON: the
baseline that bench/rewards/math_accuracy_bench compares against. It does not score ours.
This file does not score our grader and does not decide which verdict is right.
"""
import argparse
import json
import random
import sys
import time

BOXED_TEMPLATES = [
    "Let me work it out. So the result is $\\boxed{%s}$.",
    "<think>compute carefully</think> The final answer is $\\boxed{%s}$",
    "We simplify step by step and get\n\\[\\boxed{%s}\\]",
    "<think>\nLet me check the arithmetic once more.\n</think>\nTherefore, the answer is $\\boxed{%s}$.",
]
# Plain-text endings of GSM8K-style completions; only used for answers without LaTeX.
PLAIN_TEMPLATES = [
    "Adding everything up gives the total.\n#### %s",
    "<think>add the parts</think> The answer is %s.",
    "So the final answer is %s.",
]


def completion(pred, rng, plain=False):
    if plain and rng.random() < 0.5:
        return rng.choice(PLAIN_TEMPLATES) % pred
    return rng.choice(BOXED_TEMPLATES) % pred


def frac(p, q):
    return f"\\frac{{{p}}}{{{q}}}"


def gsm8k_styles(rng):
    """Word-problem answers: integers, money, units, separators, percentages."""
    units = ["cm", "meters", "inches", "feet", "miles", "hours", "minutes", "days", "kg", "pounds"]
    for _ in range(400):
        n = rng.randint(0, 5000)
        yield "gsm8k_integer", str(n), str(n), True, True
        yield "gsm8k_integer_wrong", str(n), str(n + rng.choice([-10, -2, -1, 1, 2, 5, 100])), False, True
    for _ in range(120):
        n = rng.randint(1000, 9999999)
        yield "thousands_separator", str(n), f"{n:,}", True, True
        yield "thousands_latex_comma", str(n), f"{n:,}".replace(",", "{,}"), True, False
        yield "thousands_separator_wrong", str(n), f"{n + rng.choice([-1000, 1, 10]):,}", False, True
    for _ in range(100):
        n = rng.randint(1, 500)
        cents = rng.randint(0, 99)
        yield "dollars_sign", str(n), f"\\${n}", True, False
        yield "dollars_cents", f"{n}.{cents:02d}", f"\\${n}.{cents:02d}", True, False
        yield "dollars_sign_wrong", str(n), f"\\${n + 1}", False, False
    for _ in range(100):
        n = rng.randint(1, 999)
        unit = rng.choice(units)
        yield "units_text", str(n), f"{n}\\text{{ {unit}}}", True, False
        yield "units_mbox", str(n), f"{n} \\mbox{{ {unit}}}", True, False
        yield "units_text_wrong", str(n), f"{n + 1}\\text{{ {unit}}}", False, False
        yield "units_squared", str(n), f"{n}\\text{{ cm}}^2", True, False
    for _ in range(100):
        n = rng.randint(1, 99)
        yield "percent_vs_number", str(n), f"{n}\\%", True, False
        yield "percent_vs_percent", f"{n}\\%", f"{n}\\%", True, False
        yield "percent_vs_fraction_of_one", f"{n}\\%", f"{n / 100:g}", True, True
        yield "percent_wrong", f"{n}\\%", f"{n + 1}\\%", False, False
    for _ in range(60):
        a = rng.randint(1, 999) / 100
        yield "decimal_trailing_zero", f"{a:.2f}", f"{a:.2f}0", True, True
        yield "decimal_wrong", f"{a:.2f}", f"{a + 0.01:.2f}", False, True
        yield "decimal_leading_zero_dropped", f"{a / 10:.3f}", f"{a / 10:.3f}".lstrip("0"), a >= 0, True


def number_styles(rng):
    """Fractions, mixed numbers, decimals, tolerance, scientific notation, powers, huge integers."""
    for _ in range(100):
        p, q = rng.randint(1, 30), rng.randint(2, 30)
        f = frac(p, q)
        yield "fraction_same", f, f"\\dfrac{{{p}}}{{{q}}}", True, False
        yield "fraction_vs_slash", f, f"{p}/{q}", True, False
        if (10 ** 6 * p) % q == 0:
            yield "fraction_vs_exact_decimal", f, repr(p / q), True, True
        yield "fraction_unreduced", f, frac(2 * p, 2 * q), True, False
        yield "fraction_wrong", f, frac(p + 1, q), False, False
        yield "fraction_negative_sign_inside", f"-{f}", frac(-p, q), True, False
        yield "fraction_negative_lost", f"-{f}", f, False, False
        yield "fraction_tfrac", f, f"\\tfrac{{{p}}}{{{q}}}", True, False
    for _ in range(60):
        p, q = rng.randint(1, 30), rng.choice([3, 6, 7, 9, 11, 12, 13])
        if p % q == 0:
            continue
        v = p / q
        # Six decimals is math-verify's precision and ours; two decimals is a rounded answer.
        yield "fraction_vs_six_decimals", frac(p, q), f"{v:.6f}", True, True
        yield "fraction_vs_two_decimals", frac(p, q), f"{v:.2f}", (100 * p) % q == 0, True
        yield "fraction_vs_three_decimals", frac(p, q), f"{v:.3f}", (1000 * p) % q == 0, True
    for _ in range(40):
        w, p, q = rng.randint(1, 9), rng.randint(1, 4), rng.randint(5, 9)
        yield "mixed_number", f"{w}\\frac{{{p}}}{{{q}}}", frac(w * q + p, q), True, False
        yield "mixed_number_wrong", f"{w}\\frac{{{p}}}{{{q}}}", frac(w * q - p, q), False, False
    for _ in range(60):
        n = rng.randint(1, 999)
        yield "integer_vs_decimal_zero", str(n), f"{n}.0", True, True
        yield "integer_vs_tiny_difference", str(n), f"{n}.0000001", False, True
        yield "integer_vs_small_difference", str(n), f"{n}.001", False, True
        d = rng.randint(1, 999999) / 10 ** 6 + rng.randint(0, 99)
        yield "decimal_six_places_same", f"{d:.6f}", f"{d:.6f}", True, True
        yield "decimal_seventh_place", f"{d:.6f}", f"{d + 1e-5:.6f}", False, True
    for _ in range(50):
        a, e = rng.randint(1, 9), rng.randint(3, 9)
        yield "scientific_times", str(a * 10 ** e), f"{a}\\times 10^{{{e}}}", True, False
        yield "scientific_cdot", str(a * 10 ** e), f"{a} \\cdot 10^{e}", True, False
        yield "scientific_wrong_exponent", str(a * 10 ** e), f"{a}\\times 10^{{{e + 1}}}", False, False
        m = rng.randint(11, 99) / 10
        yield "scientific_decimal_mantissa", f"{m}\\times 10^{{{e}}}", str(round(m * 10 ** e)), True, True
        yield "power", str(2 ** e), f"2^{{{e}}}", True, False
        yield "negative_exponent", f"10^{{-{e % 5 + 1}}}", f"{10 ** -(e % 5 + 1):.6f}", True, True
    for _ in range(40):
        big = str(rng.randint(10 ** 20, 10 ** 25))
        yield "huge_integer", big, big, True, True
        yield "huge_integer_off_by_one", big, str(int(big) + 1), False, True
    for _ in range(60):
        n = rng.randint(1, 999)
        yield "negative", f"-{n}", f"-{n}", True, True
        yield "negative_sign_lost", f"-{n}", f"{n}", False, True


def symbolic_styles(rng):
    """MATH-style radicals, pi, expressions, equations."""
    for _ in range(80):
        a, b = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
        # "\\sqrt11" is LaTeX for \\sqrt{1}1: an unbraced radicand is one character.
        yield "sqrt_unbraced", f"{a}\\sqrt{{{b}}}", f"{a}\\sqrt{b}", b < 10, False
        yield "sqrt_combined", f"{a}\\sqrt{{{b}}}", f"\\sqrt{{{a * a * b}}}", True, False
        yield "sqrt_wrong", f"{a}\\sqrt{{{b}}}", f"{a + 1}\\sqrt{{{b}}}", False, False
        yield "sqrt_over_number", f"\\frac{{\\sqrt{{{b}}}}}{{{a}}}", f"\\frac{{1}}{{{a}}}\\sqrt{{{b}}}", True, False
        yield "sqrt_rationalized", f"\\frac{{\\sqrt{{{b}}}}}{{{b}}}", f"\\frac{{1}}{{\\sqrt{{{b}}}}}", True, False
        yield "sqrt_vs_six_decimals", f"\\sqrt{{{b}}}", f"{b ** 0.5:.6f}", True, True
        yield "sqrt_vs_two_decimals", f"\\sqrt{{{b}}}", f"{b ** 0.5:.2f}", False, True
    for _ in range(60):
        a, b = rng.randint(1, 9), rng.randint(2, 6)
        yield "pi_multiple", f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a}}}{{{b}}}\\pi", True, False
        yield "pi_slash", f"\\frac{{{a}\\pi}}{{{b}}}", f"{a}\\pi/{b}", True, False
        yield "pi_wrong", f"\\frac{{{a}\\pi}}{{{b}}}", f"\\frac{{{a + 1}\\pi}}{{{b}}}", False, False
        yield "pi_dropped", f"{a}\\pi", str(a), False, True
    for _ in range(60):
        a, b = rng.randint(1, 6), rng.randint(1, 6)
        yield "expression_expanded", f"(x+{a})(x+{b})", f"x^2+{a + b}x+{a * b}", True, False
        yield "expression_reordered", f"{a}x+{b}", f"{b}+{a}x", True, False
        yield "expression_wrong", f"(x+{a})(x+{b})", f"x^2+{a + b}x+{a * b + 1}", False, False
        yield "expression_fraction", f"\\frac{{x+{a}}}{{{b}}}", f"\\frac{{x}}{{{b}}}+\\frac{{{a}}}{{{b}}}", True, False
        yield "equation_prefix", f"{a}x+{b}", f"y = {a}x + {b}", True, False
        yield "equation_both", f"y = {a}x + {b}", f"y={b}+{a}x", True, False
        yield "equation_wrong", f"y = {a}x + {b}", f"y = {a}x - {b}", False, False
        yield "variable_prefix", str(a * b), f"x = {a * b}", True, True
        yield "variable_prefix_wrong", str(a * b), f"x = {a * b + 1}", False, True


def compound_styles(rng):
    """Intervals, inequalities, tuples, sets, +-, multiple answers."""
    for _ in range(60):
        lo, hi = rng.randint(-9, 0), rng.randint(1, 9)
        yield "interval_same", f"[{lo}, {hi})", f"[{lo},{hi})", True, False
        yield "interval_bracket_wrong", f"[{lo}, {hi})", f"[{lo}, {hi}]", False, False
        yield "interval_infinite", f"(-\\infty, {hi}]", f"(-\\infty,{hi}]", True, False
        yield "interval_union", f"(-\\infty, {lo}) \\cup ({hi}, \\infty)", f"(-\\infty,{lo})\\cup({hi},\\infty)", True, False
        yield "interval_union_wrong", f"(-\\infty, {lo}) \\cup ({hi}, \\infty)", f"(-\\infty,{lo}]\\cup({hi},\\infty)", False, False
    for _ in range(40):
        n, m = rng.randint(-9, 9), rng.randint(10, 20)
        yield "inequality_vs_interval", f"x > {n}", f"({n}, \\infty)", True, False
        yield "inequality_geq_vs_interval", f"x \\ge {n}", f"[{n}, \\infty)", True, False
        yield "inequality_leq_vs_interval", f"x \\leq {n}", f"(-\\infty, {n}]", True, False
        yield "double_inequality_vs_interval", f"{n} < x < {m}", f"({n}, {m})", True, False
        yield "double_inequality_closed", f"{n} \\le x \\le {m}", f"[{n}, {m}]", True, False
        yield "inequality_vs_wrong_interval", f"x > {n}", f"[{n}, \\infty)", False, False
        yield "inequality_flipped", f"x > {n}", f"{n} < x", True, False
        yield "inequality_same", f"x \\geq {n}", f"x\\ge {n}", True, False
        yield "inequality_wrong_direction", f"x > {n}", f"x < {n}", False, False
    for _ in range(8):
        n = rng.randint(-9, 9)
        # math-verify turns an inequality into an interval only when the prediction is the set.
        yield "interval_vs_inequality", f"({n}, \\infty)", f"x > {n}", True, False
    for _ in range(60):
        x, y = rng.randint(-9, 9), rng.randint(-9, 9)
        yield "tuple_same", f"({x}, {y})", f"\\left({x},{y}\\right)", True, False
        if x != y:
            yield "tuple_swapped", f"({x}, {y})", f"({y}, {x})", False, False
        z = rng.randint(-9, 9)
        yield "tuple_three", f"({x}, {y}, {z})", f"({x},{y},{z})", True, False
        yield "tuple_three_wrong", f"({x}, {y}, {z})", f"({x},{y},{z + 1})", False, False
        yield "tuple_fraction_vs_decimal", f"(\\frac{{1}}{{2}}, {y})", f"(0.5, {y})", True, False
    for _ in range(8):
        n = rng.randint(-9, 9)
        yield "tuple_vs_set", f"({n}, {n + 1})", f"\\{{{n}, {n + 1}\\}}", False, False
    for _ in range(60):
        items = rng.sample(range(-9, 10), 3)
        shuffled = items[:]
        rng.shuffle(shuffled)
        gold = ", ".join(map(str, items))
        yield "set_braces_reordered", f"\\{{{gold}\\}}", "\\{" + ", ".join(map(str, shuffled)) + "\\}", True, False
        yield "list_reordered", gold, ", ".join(map(str, shuffled)), True, False
        yield "list_missing_element", gold, ", ".join(map(str, items[:2])), False, False
        yield "list_extra_element", gold, ", ".join(map(str, items + [items[0] + 20])), False, False
        yield "list_named_solutions", gold, ", ".join(f"x={v}" for v in shuffled), True, False
        yield "list_and", ", ".join(map(str, items[:2])), f"{items[0]} \\text{{ and }} {items[1]}", True, False
    for _ in range(60):
        n = rng.randint(1, 99)
        yield "plus_minus_vs_list", f"\\pm {n}", f"{n}, -{n}", True, False
        yield "plus_minus_vs_reordered_list", f"\\pm {n}", f"-{n}, {n}", True, False
        yield "plus_minus_vs_one", f"\\pm {n}", f"{n}", False, False
        yield "plus_minus_same", f"\\pm {n}", f"\\pm{n}", True, False
        b = rng.choice([2, 3, 5, 7])
        yield "plus_minus_radical", f"{n} \\pm \\sqrt{{{b}}}", f"{n} + \\sqrt{{{b}}}, {n} - \\sqrt{{{b}}}", True, False
        yield "plus_minus_radical_half", f"{n} \\pm \\sqrt{{{b}}}", f"{n} + \\sqrt{{{b}}}", False, False


def text_styles(rng):
    """Degrees, \\text{} answers, choices."""
    for _ in range(60):
        n = rng.randint(1, 179)
        yield "degrees", str(n), f"{n}^\\circ", True, False
        yield "degrees_braced", f"{n}^\\circ", f"{n}^{{\\circ}}", True, False
        yield "degrees_wrong", f"{n}^\\circ", f"{n + 1}^\\circ", False, False
        yield "degrees_text", str(n), f"{n}\\text{{ degrees}}", True, False
    for _ in range(8):
        yield "degrees_vs_radians", "90^\\circ", "\\frac{\\pi}{2}", False, False
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    names = ["Evelyn", "Alice", "Bob", "Carla", "Diego"]
    for _ in range(40):
        i = rng.randrange(7)
        yield "text_answer", f"\\text{{{days[i]}}}", days[i], True, False
        yield "text_answer_wrong", f"\\text{{{days[i]}}}", days[(i + 1) % 7], False, False
        j = rng.randrange(5)
        yield "text_name", f"\\text{{{names[j]}}}", f"\\text{{{names[j]}}}", True, False
        yield "text_name_wrong", f"\\text{{{names[j]}}}", f"\\text{{{names[(j + 1) % 5]}}}", False, False
        letter = rng.choice("ABCDE")
        yield "choice_letter", f"\\text{{({letter})}}", letter, True, False
        yield "choice_parenthesized", f"\\text{{({letter})}}", f"({letter})", True, False
        yield "choice_wrong", f"\\text{{({letter})}}", "ABCDE"[("ABCDE".index(letter) + 1) % 5], False, False


def math500_styles(rng):
    """Further MATH-500 answer shapes: radicals in fractions, complex numbers, vectors, equations."""
    for _ in range(40):
        a, b = rng.randint(1, 9), rng.choice([2, 3, 5, 7])
        yield "plus_minus_in_fraction", f"\\frac{{-{a} \\pm \\sqrt{{{b}}}}}{{2}}", \
            f"\\frac{{-{a}+\\sqrt{{{b}}}}}{{2}}, \\frac{{-{a}-\\sqrt{{{b}}}}}{{2}}", True, False
        yield "sqrt_of_fraction", f"\\frac{{\\sqrt{{{b * 3}}}}}{{3}}", f"\\sqrt{{\\frac{{{b}}}{{3}}}}", True, False
        yield "complex_reordered", f"{a}+{b}i", f"{b}i+{a}", True, False
        yield "complex_conjugate", f"{a}+{b}i", f"{a}-{b}i", False, False
        x, y = rng.randint(-9, 9), rng.randint(-9, 9)
        vec = f"\\begin{{pmatrix}} {x} \\\\ {y} \\end{{pmatrix}}"
        yield "vector_spacing", vec, vec.replace(" ", ""), True, False
        yield "vector_wrong", vec, f"\\begin{{pmatrix}} {x} \\\\ {y + 1} \\end{{pmatrix}}", False, False
        yield "equation_line", f"y = {a}x - {b}", f"y = -{b} + {a}x", True, False


def edge_styles(rng):
    """A few cases where graders reasonably differ; `expected` is a careful human's verdict."""
    for _ in range(6):
        n = rng.randint(1, 99)
        yield "edge_implicit_times", f"{n}\\sqrt{{2}}", f"{n}*\\sqrt(2)", True, False
        yield "edge_trig_value", "\\frac{\\sqrt{3}}{2}", "\\sin 60^\\circ", True, False
        yield "edge_text_number", f"{n}", f"{n} apples", True, False


def styles(rng):
    """Yields (style, gold, prediction, expected, plain) where `plain` allows a plain-text ending."""
    for family in (gsm8k_styles, number_styles, symbolic_styles, compound_styles, text_styles, math500_styles,
                   edge_styles):
        yield from family(rng)


def math_verify_verdict(gold, text):
    from math_verify import parse, verify  # imported here so --help works without it
    try:
        return bool(verify(parse(f"$\\boxed{{{gold}}}$"), parse(text)))
    except Exception:  # math-verify raising counts as "not equal", as open-r1 does
        return False


def build(path):
    rng = random.Random(20250704)
    count = 0
    with open(path, "w") as out:
        for style, gold, pred, expected, plain in styles(rng):
            text = completion(pred, rng, plain)
            out.write(json.dumps({"style": style, "gold": gold, "completion": text, "expected": expected,
                                  "math_verify": math_verify_verdict(gold, text)}) + "\n")
            count += 1
    print(f"wrote {count} pairs to {path}", file=sys.stderr)


def time_corpus(path, repeats):
    rows = [json.loads(line) for line in open(path)]
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for r in rows:
            math_verify_verdict(r["gold"], r["completion"])
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
