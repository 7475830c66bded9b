"""The report a PMO can send: one self-contained HTML file of a simulation.

:func:`write_report` writes it (plots embedded as PNG ``data:`` URIs, inline CSS, no
script and no external URL: it opens offline, by e-mail, from a share); :func:`model_hash`
is the SHA-256 fingerprint of a model that its audit block shows.
"""

from .html import model_hash, report_html, write_report

__all__ = ["write_report", "report_html", "model_hash"]
