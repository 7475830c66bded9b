"""A guard against stale compiled kernels in numba's on-disk cache.

numba keys a cached function on its own source file's time stamp and size, not on
the functions it calls or the constants it imports from other modules: after an edit
to ``accumulate.py``, the cached ``run_span`` (which has ``accumulate``'s code
compiled into it) would still load. This guard hashes every source the kernels are
built from (this package, its ``_llvm`` layer, ``pmosim.layout`` and
``pmosim.distributions``) and keeps the hash in the kernels' cache directory; when the
sources differ from the hash, it deletes the kernels' cached files there first, so
they compile afresh. It runs once per process, before the first kernel is defined.
"""

import hashlib
import os
from pathlib import Path

_STAMP = "pmosim-kernels.sha256"
_KERNELS = Path(__file__).resolve().parent


def sources_digest() -> str:
    """SHA-256 over the kernel sources' names and bytes, in a fixed order."""
    files = sorted(_KERNELS.glob("*.py")) + sorted((_KERNELS / "_llvm").glob("*.py"))
    files += [_KERNELS.parent / "layout.py", _KERNELS.parent / "distributions.py"]
    h = hashlib.sha256()
    for path in files:
        h.update(path.relative_to(_KERNELS.parent).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def _probe():
    """A function of this package, to ask numba where the package's cache lives."""


def cache_dir() -> Path:
    """Where numba caches the functions of ``pmosim/kernels/*.py`` (NUMBA_CACHE_DIR,
    ``__pycache__`` beside the sources, or the user-wide cache when that is not
    writable)."""
    from numba.core.caching import FunctionCache
    return Path(FunctionCache(_probe)._cache_path)


def guard() -> bool:
    """Delete the kernels' cached files when the sources changed; True if it did."""
    digest = sources_digest()
    try:
        directory = cache_dir()
        stamp = directory / _STAMP
        if stamp.exists() and stamp.read_text().strip() == digest:
            return False
        modules = {p.stem for p in _KERNELS.glob("*.py")}
        removed = False
        if directory.is_dir():
            for entry in directory.iterdir():
                if entry.suffix in (".nbi", ".nbc") and entry.name.split(".", 1)[0] in modules:
                    entry.unlink(missing_ok=True)
                    removed = True
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f"{_STAMP}.{os.getpid()}"
        tmp.write_text(digest + "\n")
        os.replace(tmp, stamp)
        return removed
    except OSError:
        # a read-only or vanished cache: numba then compiles in memory, nothing is stale
        return False
