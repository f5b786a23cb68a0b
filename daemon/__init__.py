"""locsync: localization sync daemon."""
from __future__ import annotations

__version__ = "0.1.0"
# Marker checked by the CLI: PyPI's python-daemon also installs a top-level `daemon`
# package and would silently shadow ours if installed in the same environment.
__locsync__ = True
