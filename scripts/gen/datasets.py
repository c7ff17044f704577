#!/usr/bin/env python3
"""Writes the harness datasets: examples/data/arithmetic.jsonl (word problems with integer answers)
and examples/data/factoid.jsonl (short questions answered by a passage about a fictional country,
so that a model must read the passage rather than remember). Deterministic: the same files on
every run. Run: python3 scripts/gen/datasets.py"""
import json
import os
import random

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "data")

NAMES = ["Ana", "Ben", "Chloe", "Dmitri", "Esi", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kofi", "Lena", "Mateo",
         "Nia", "Oren", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wen", "Xavi", "Yara", "Zane"]
PRONOUN = {n: ("She" if n in {"Ana", "Chloe", "Esi", "Farah", "Hana", "Lena", "Nia", "Priya", "Rosa", "Tara", "Vera",
                              "Yara"} else "He") for n in NAMES}
ITEMS = ["apples", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "books", "cards", "beads"]
CONTAINERS = ["box", "bag", "jar", "crate", "tin"]


def plural(noun):
    return noun + ("es" if noun.endswith("x") else "s")


def arithmetic(rng):
    """One problem and its answer. The numbers appear in the order they are used, and the word just
    before each tells what to do with it (the simulated LM's solver reads them that way)."""
    name, friend = rng.sample(NAMES, 2)
    he, item = PRONOUN[name], rng.choice(ITEMS)
    kind = rng.randrange(7)
    if kind == 0:
        a, b = rng.randint(3, 60), rng.randint(2, 40)
        return f"{name} has {a} {item}. {he} buys {b} more. How many {item} does {name} have now?", a + b
    if kind == 1:
        a = rng.randint(10, 90)
        b = rng.randint(1, a - 1)
        return f"{name} has {a} {item} and gives {b} to {friend}. How many {item} does {name} have left?", a - b
    if kind == 2:
        a, b, box = rng.randint(2, 12), rng.randint(2, 15), rng.choice(CONTAINERS)
        return (f"{name} buys {a} {plural(box)} of {item}. Each {box} holds {b} {item}. "
                f"How many {item} does {name} have?"), a * b
    if kind == 3:
        b, q = rng.randint(2, 9), rng.randint(2, 15)
        return (f"{name} has {b * q} {item} and shares them equally among {b} friends. "
                f"How many {item} does each friend get?"), q
    if kind == 4:
        a, b = rng.randint(5, 50), rng.randint(2, 30)
        c = rng.randint(1, a + b - 1)
        return (f"{name} has {a} {item}. {he} finds {b} more and then gives away {c}. "
                f"How many {item} does {name} have now?"), a + b - c
    if kind == 5:
        box = rng.choice(CONTAINERS)
        a, b = rng.randint(4, 20), rng.randint(2, 9)
        c = rng.randint(1, a * b - 1)
        return (f"A {box} holds {a} {item}. {name} fills {b} {plural(box)} and then loses {c} {item}. "
                f"How many {item} does {name} have?"), a * b - c
    a, b, c = rng.randint(5, 25), rng.randint(2, 7), rng.randint(1, 20)
    return (f"{name} earns {a} dollars per day for {b} days. {he} spends {c} dollars on a gift. "
            f"How many dollars does {name} have left?"), a * b - c


SYLLABLES = ["ka", "lo", "mer", "va", "ri", "tan", "os", "el", "dor", "shi", "an", "bel", "cor", "fen", "gal", "hol",
             "ith", "jor", "kel", "lum", "mor", "nar", "pel", "quin", "ros", "sal", "tor", "ul", "ven", "zir"]
ANIMALS = ["snow leopard", "river otter", "golden eagle", "red deer", "grey wolf", "white stork", "brown bear",
           "sea turtle", "mountain goat", "barn owl", "wild horse", "black swan", "fire salamander", "lynx"]


def word(rng, parts):
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def factoid(rng, count):
    """`count` fictional countries, each with one passage and six questions about it."""
    rows, used = [], set()
    while len(rows) < count * 6:
        country = word(rng, rng.choice([2, 3]))
        if country in used:
            continue
        used.add(country)
        capital, river = word(rng, 3), word(rng, 2)
        founder = f"{word(rng, 2)} {word(rng, 2)}"
        year, length, people = rng.randint(1500, 1990), rng.randint(80, 2900), rng.randint(2, 95)
        animal = rng.choice(ANIMALS)
        sentences = [
            f"The capital of {country} is {capital}.",
            f"The {country} National Library was founded in {year} by {founder}.",
            f"The longest river in {country} is the {river}, which is {length} kilometres long.",
            f"{country} has a population of about {people} million people.",
            f"The national animal of {country} is the {animal}.",
        ]
        rng.shuffle(sentences)
        passage = " ".join(sentences)
        for question, answer in [
            (f"What is the capital of {country}?", capital),
            (f"In what year was the {country} National Library founded?", str(year)),
            (f"Who founded the {country} National Library?", founder),
            (f"What is the longest river in {country}?", river),
            (f"About how many million people live in {country}?", str(people)),
            (f"What is the national animal of {country}?", animal),
        ]:
            rows.append({"passage": passage, "question": question, "answer": answer})
    rng.shuffle(rows)
    return rows


def main():
    rng = random.Random(20260501)
    problems = []
    seen = set()
    while len(problems) < 300:
        q, a = arithmetic(rng)
        if q not in seen:
            seen.add(q)
            problems.append({"question": q, "answer": a})
    with open(os.path.join(OUT, "arithmetic.jsonl"), "w") as f:
        for p in problems:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    with open(os.path.join(OUT, "factoid.jsonl"), "w") as f:
        for r in factoid(random.Random(20260502), 50):
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
