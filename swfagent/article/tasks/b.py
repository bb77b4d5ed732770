#!/usr/bin/env python3
"""Task B: read a letter (stdin, or /var/tmp/a.out when stdin is empty) and print a fruit or vegetable starting with it."""

import argparse
import os
import random
import sys

PRODUCE = {
    "a": ["apple", "apricot", "avocado", "artichoke", "asparagus"],
    "b": ["banana", "blueberry", "broccoli", "beetroot"],
    "c": ["cherry", "carrot", "cabbage", "cucumber"],
    "d": ["date", "dragonfruit", "daikon"],
    "e": ["elderberry", "eggplant", "endive"],
    "f": ["fig", "fennel", "feijoa"],
    "g": ["grape", "guava", "garlic", "gooseberry"],
    "h": ["honeydew", "horseradish", "huckleberry"],
    "i": ["iceberg lettuce", "imbe", "indian fig"],
    "j": ["jackfruit", "jalapeno", "jicama"],
    "k": ["kiwi", "kale", "kohlrabi", "kumquat"],
    "l": ["lemon", "lime", "lychee", "leek", "lettuce"],
    "m": ["mango", "melon", "mushroom", "mandarin"],
    "n": ["nectarine", "nashi pear", "napa cabbage"],
    "o": ["orange", "olive", "okra", "onion"],
    "p": ["pear", "peach", "pineapple", "potato", "pumpkin"],
    "q": ["quince", "quandong"],
    "r": ["raspberry", "radish", "rhubarb"],
    "s": ["strawberry", "spinach", "squash"],
    "t": ["tangerine", "tomato", "turnip"],
    "u": ["ugli fruit", "ube", "umbu"],
    "v": ["vanilla bean", "voavanga", "velvet apple"],
    "w": ["watermelon", "watercress", "wasabi"],
    "x": ["ximenia", "xigua"],
    "y": ["yam", "yuzu", "yellow squash"],
    "z": ["zucchini", "ziziphus"],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in", dest="path", default=os.environ.get("A_OUT", "/var/tmp/a.out"),
                        help="where to read the letter when stdin is empty")
    args = parser.parse_args(argv)
    text = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    if not text.strip():
        try:
            with open(args.path) as f:
                text = f.read()
        except OSError as exc:
            print(f"b.py: no letter on stdin and cannot read {args.path}: {exc.strerror}", file=sys.stderr)
            return 1
    letter = text.strip().lower()
    if letter not in PRODUCE:
        print(f"b.py: expected one letter a-z, got {text.strip()[:40]!r}", file=sys.stderr)
        return 1
    print(random.choice(PRODUCE[letter]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
