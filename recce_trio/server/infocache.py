"""The /api/info bodies of the review being served, each encoded and compressed once."""

from __future__ import annotations

import trio

from recce_trio.core.review import Review
from recce_trio.server import gateway
from recce_trio.server.compress import Representation


class InfoCache:
    """One ``Representation`` per lineage form (compressed once per coding), rebuilt when the
    review or the head (state file name, git, pull request) changes. Owned by the lineage
    handlers (``server/api/lineage.py``), the only reader and writer."""

    def __init__(self) -> None:
        self.lock = trio.Lock()
        self.entries: dict[str, tuple[Review, bytes, Representation]] = {}
        self.prepared: Review | None = None  # the review prepare_info last ran for
        # Set once an /api/info body has been sent (the background's heavier work after
        # ready waits for it, so that a page waiting for the lineage comes first).
        self.answered = trio.Event()

    def _found(self, review: Review, head: bytes, form: str) -> Representation | None:
        entry = self.entries.get(form)
        if entry is not None and entry[0] is review and entry[1] == head:
            return entry[2]
        return None

    async def get(self, review: Review, head: bytes, form: str) -> Representation:
        """The body ``head`` (a JSON object) with ``"lineage"`` of ``form`` added."""
        found = self._found(review, head, form)
        if found is not None:
            return found
        async with self.lock:
            found = self._found(review, head, form)
            if found is not None:
                return found

            def build() -> Representation:
                if form == "merged":
                    lineage = review.lineage_json
                elif form == "page":
                    lineage = review.page_json
                else:
                    lineage = review.full_lineage_json()
                body = b"".join((head[:-1], b',"lineage":', lineage, b"}"))  # one copy
                return Representation(body, media_type="application/json", quick_first=True)

            # Joining and hashing megabytes: off the event loop.
            representation = await gateway.run(gateway.ENCODING, build)
            self.entries[form] = (review, head, representation)
            return representation
