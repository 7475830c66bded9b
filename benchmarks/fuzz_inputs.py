"""The long fuzz run of every reader (tests/test_fuzz.py with the ``long`` profile).

    python benchmarks/fuzz_inputs.py [--examples 3000]

Runs each property of tests/test_fuzz.py for ``--examples`` examples (the CI suite
runs 40) and prints hypothesis's statistics: how many inputs each reader refused with
a clear error, how many were scheduled. Any other exception, or a hang past pytest's
timeout, fails the run with the falsifying input.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    args = parser.parse_args()
    env = dict(os.environ, HYPOTHESIS_PROFILE="long", PMOSIM_FUZZ_EXAMPLES=str(args.examples))
    return subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(REPO / "tests" / "test_fuzz.py"),
                            "--hypothesis-show-statistics"], cwd=REPO, env=env)


if __name__ == "__main__":
    sys.exit(main())
