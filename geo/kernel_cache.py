"""Numba's on-disk cache for kernels that call kernels of other modules.

``numba.njit(cache=True)`` keys a kernel's cached machine code by its own source file (a stamp
of the file) and its bytecode. A kernel that calls a kernel of another module has that callee
compiled into it, so an edit of the callee's module alone would leave the cached caller running
the old callee, and so would an edit of a constant it reads from another module.
:func:`cached_with` keys the cache by those modules' sources as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher


def cached_with(*modules: ModuleType) -> Callable[[Dispatcher], Dispatcher]:
    """Decorate a cached kernel (``njit(cache=True)``, applied first) whose code also comes
    from ``modules``: its cache entries hold a digest of their sources, and one that no longer
    matches them is compiled again."""
    digest = hashlib.sha256(b"".join(Path(m.__file__).read_bytes() for m in modules)).hexdigest()

    def decorate(kernel: Dispatcher) -> Dispatcher:
        if isinstance(kernel, Dispatcher):  # (not with NUMBA_DISABLE_JIT: a plain function)
            kernel._cache = _DependentCache(kernel.py_func, digest)
        return kernel

    return decorate


class _DependentCache(FunctionCache):
    def __init__(self, py_func, digest: str) -> None:
        self._digest = digest
        super().__init__(py_func)

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), self._digest)
