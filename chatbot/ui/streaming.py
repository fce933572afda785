"""Answer text for the page in a few pieces a second rather than one per token.

``st.write_stream`` sends the whole text so far for every piece it gets, and the browser renders it as
Markdown again each time. One piece per token kept the Streamlit process and the browser busy enough to
halve the local model's tokens per second inside the app on two cores (``benchmarks/app_tokens.py``);
a few updates a second still read as streaming.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

PAGE_UPDATE_INTERVAL_S = 0.1


def coalesce(
    pieces: Iterable[str],
    interval_s: float = PAGE_UPDATE_INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """The pieces joined so that at most one is yielded per ``interval_s``; the first comes at once.

    Pieces are read as they arrive; what is held back goes out with the next piece due, or at the end.
    """
    pending: list[str] = []
    last_yield: float | None = None
    for piece in pieces:
        pending.append(piece)
        now = clock()
        if last_yield is None or now - last_yield >= interval_s:
            yield "".join(pending)
            pending.clear()
            last_yield = now
    if pending:
        yield "".join(pending)
