"""Progress bars for library calls: ``simulate(..., progress=True)`` in a script or a
notebook.

:func:`progress_bar` turns the ``progress`` argument of :func:`pmosim.simulate` and
:func:`pmosim.rank_risks` into the ``progress(done, total)`` callback the backends
call: ``True`` gives a bar (tqdm's, through ``tqdm.auto`` so that Jupyter shows a
widget, when tqdm is installed; otherwise :class:`TextBar`, a plain one-line bar on
standard error), a callable is used as it is, and ``None`` or ``False`` show nothing.
The command line keeps its own bar (``pmosim.cli``), which waits a second before it
appears and pauses while kernels compile.
"""

from __future__ import annotations

import contextlib
import sys
import time

from .errors import SimulationError

#: Least time between two redraws of :class:`TextBar` (seconds).
MIN_INTERVAL_S = 0.1
#: Cells of :class:`TextBar`'s bar.
WIDTH = 30


class TextBar:
    """A one-line text progress bar on a stream, redrawn in place with ``\\r``.

    Called as ``bar(done, total)``; redraws at most every :data:`MIN_INTERVAL_S`
    seconds (the backends report after every block, thousands of times a second on a
    small model) and always at the end. :meth:`close` ends the line.

    Parameters
    ----------
    label : str
        Text before the bar.
    file : text stream, optional
        Where to draw (default: ``sys.stderr`` at the time of each write, so that
        pytest's and Jupyter's captured streams work).
    unit : str
        What ``done`` counts, shown after the numbers.
    """

    def __init__(self, label: str = "Simulating", file=None, unit: str = "iterations"):
        self.label = label
        self.file = file
        self.unit = unit
        self.t0 = None           # the first report: compiling before it is not progress
        self.done0 = 0
        self.last = -float("inf")
        self.done = 0
        self.total = 0
        self.width = 0
        self.drawn = False
        self.closed = False

    def _stream(self):
        return self.file if self.file is not None else sys.stderr

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = int(done), int(total)
        now = time.monotonic()
        if self.t0 is None:
            self.t0, self.done0 = now, self.done
        if now - self.last >= MIN_INTERVAL_S or self.done >= self.total:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        total = max(self.total, 1)
        share = min(max(self.done / total, 0.0), 1.0)
        cells = int(round(share * WIDTH))
        elapsed = now - self.t0
        if self.done0 < self.done < self.total and elapsed > 0:
            rate = (self.done - self.done0) / elapsed
            tail = f"ETA {_duration((self.total - self.done) / rate)}"
        else:
            tail = _duration(elapsed)
        line = (f"\r{self.label} [{'#' * cells}{'.' * (WIDTH - cells)}] {100 * share:3.0f}% "
                f"{self.done:,}/{self.total:,} {self.unit}  {tail}")
        stream = self._stream()
        # pad over the end of a longer previous line (an ETA that lost a digit)
        stream.write(line.ljust(self.width))
        self.width = len(line)
        stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Draw the final state and end the line (once; nothing if nothing was drawn)."""
        if self.closed:
            return
        self.closed = True
        if self.drawn:
            self._draw(time.monotonic())
            self._stream().write("\n")
            self._stream().flush()


class _Tqdm:
    """``progress(done, total)`` over a tqdm bar (created on the first call, when the
    total is known)."""

    def __init__(self, tqdm, label: str, unit: str):
        self.tqdm = tqdm
        self.label = label
        self.unit = unit
        self.bar = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = self.tqdm(total=int(total), desc=self.label, unit=f" {self.unit}",
                                 unit_scale=True, leave=True)
        if int(total) != self.bar.total:
            self.bar.total = int(total)
        self.bar.update(int(done) - self.shown)
        self.shown = int(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _auto_tqdm():
    """tqdm's notebook-aware class, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


def make_bar(label: str = "Simulating", unit: str = "iterations"):
    """A new ``progress(done, total)`` bar with a ``close()``: tqdm's when installed,
    else a :class:`TextBar` on standard error."""
    tqdm = _auto_tqdm()
    return _Tqdm(tqdm, label, unit) if tqdm is not None else TextBar(label, unit=unit)


def progress_bar(progress, label: str = "Simulating", unit: str = "iterations"):
    """A context manager giving the ``progress(done, total)`` callback for a
    ``progress=`` argument; the argument is checked at once, not on entering.

    Parameters
    ----------
    progress : bool, callable or None
        ``True``: a bar (see :func:`make_bar`), closed when the block ends, also on
        an error; a callable: itself; ``None`` or ``False``: ``None`` (no reports).
    label, unit : str
        The bar's text.

    Returns
    -------
    context manager yielding a callable or None

    Raises
    ------
    SimulationError
        ``progress`` is none of these.

    Examples
    --------
    >>> seen = []
    >>> with progress_bar(lambda done, total: seen.append((done, total))) as report:
    ...     report(512, 1024)
    >>> seen
    [(512, 1024)]
    """
    if progress is None or progress is False:
        return contextlib.nullcontext(None)
    if progress is True:
        return contextlib.closing(make_bar(label, unit))
    if callable(progress):
        return contextlib.nullcontext(progress)
    raise SimulationError(
        f"progress must be True (show a bar), False/None or a callable "
        f"progress(done, total), got {progress!r}")
