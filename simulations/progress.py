"""A progress bar over simulated time (tqdm on stderr), off when quiet or not on a terminal."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

from tqdm import tqdm

# The bar counts simulated hours: redrawing per event would cost more than the events.



@contextlib.contextmanager
def progress_bar(total_s: int, quiet: bool = False) -> Iterator[Callable[[int], None] | None]:
    """A callable taking the simulated time reached (s), or None when there is no bar."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    bar = tqdm(total=total_s // 3600, unit="sim h", file=sys.stderr, dynamic_ncols=True)
    shown = [0]

    def advance(time_s: int) -> None:
        if time_s - shown[0] * 3600 >= 3600:
            hours = time_s // 3600
            bar.update(hours - shown[0])
            shown[0] = hours

    try:
        yield advance
    finally:
        bar.close()
