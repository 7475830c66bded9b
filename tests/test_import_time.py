"""``import pmosim`` stays light: no numba compilation and no heavy imports at import time.

Timing the import would be a wall-clock assertion; instead check the cause of a slow
import directly: which heavy modules a bare ``import pmosim`` pulls in.
"""

import subprocess
import sys


def test_import_pmosim_loads_no_numba_scipy_or_matplotlib():
    code = ("import sys, pmosim; "
            "print(','.join(m for m in ('numba', 'scipy', 'matplotlib', 'click') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
