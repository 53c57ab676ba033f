"""HTTP and websocket routes. Each module registers its routes; this is the one table of them."""

from __future__ import annotations

from quart import Quart


def register_routes(app: Quart) -> None:
    from recce_trio.server.api import checks, cll, instance, lineage, page, runs, state
    from recce_trio.server.compress import compress_json

    checks.register(app)
    runs.register(app)
    state.register(app)
    instance.register(app)
    lineage.register(app)
    cll.register(app)
    page.register(app)  # last: its catch-all must not shadow the API
    app.after_request(compress_json)  # JSON answers of 1 KB or more, as the client accepts
