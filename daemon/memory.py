"""Give the memory of a finished burst of work back to the operating system.

The daemon's start-up scan reads every source and target file once; afterwards it idles for
hours holding a fraction of that. CPython frees the objects, but glibc keeps the freed pages
of its heap mapped (RSS) until something asks for them: ``malloc_trim(0)`` releases them. A
no-op where the C library has no ``malloc_trim`` (musl, macOS).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes  # only the daemon trims, once start-up is done

    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):
        return None
    return trim


def release_freed_memory() -> bool:
    """Collect garbage and return free heap pages to the OS; False where that is not possible."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
