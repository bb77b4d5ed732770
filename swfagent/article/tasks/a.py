#!/usr/bin/env python3
"""Task A: print a random lowercase letter and write it to /var/tmp/a.out (or --out PATH)."""

import argparse
import os
import random
import string
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.environ.get("A_OUT", "/var/tmp/a.out"), help="where to write the letter")
    args = parser.parse_args(argv)
    letter = random.choice(string.ascii_lowercase)
    try:
        with open(args.out, "w") as f:
            f.write(letter + "\n")
    except OSError as exc:
        print(f"a.py: warning: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
    print(letter)
    return 0


if __name__ == "__main__":
    sys.exit(main())
