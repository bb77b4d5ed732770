"""python -m swfagent COMMAND: the same as the swfagent command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
