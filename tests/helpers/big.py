"""Test task: print OUT characters on stdout and ERR on stderr (one line each), then exit with CODE."""

import sys

out, err, code = (int(a) for a in sys.argv[1:4])
print("y" * out)
print("e" * err, file=sys.stderr)
sys.exit(code)
