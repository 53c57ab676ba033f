"""``POST /api/cll``: Recce's column-level lineage answer, ``{"current": CllData}``.

The work (SQL parsing on a cache miss, the walk over the lineage, encoding and compressing
the answer) runs in a worker thread; the handler only reads the body and sends the answer.
Once the whole-project map is built, answers are kept (``cll_answers``) and a repeated
question is answered from there.
"""

from __future__ import annotations

from typing import Any

from quart import Quart, Response, request

from recce_trio.errors import RequestError
from recce_trio.server.api._http import field, json_body, server_state
from recce_trio.server.cll_answers import AnswerCache, encode
from recce_trio.server.cll_work import run_cll, wait_for_the_map
from recce_trio.server.compress import IDENTITY

_answers = AnswerCache()
FLAGS = ("change_analysis", "no_cll", "no_upstream", "no_downstream")


async def cll() -> Response:
    body = await json_body(required=False)
    node_id = field(body, "node_id", str)
    column = field(body, "column", str)
    flags = {name: bool(field(body, name, bool)) for name in FLAGS}
    if field(body, "full_map", bool):
        raise RequestError(
            "full_map is not supported: ask for a node (node_id) or for the changed nodes "
            "(no node_id); the whole map is computed in the background and serves those.",
        )
    vocabulary = "v2" if request.headers.get("Accept-Vocabulary", "").strip() == "v2" else "v1"
    state = server_state()
    review = state.review
    # review.cll is made on first use, and imports sqlglot: in a worker thread.
    project = review.cll_if_made
    if project is None:
        project = await run_cll(state, lambda: review.cll)
    if not flags["no_cll"]:
        await wait_for_the_map(
            state,
            project,
            node_id,
            no_upstream=flags["no_upstream"],
            no_downstream=flags["no_downstream"],
        )

    accept = request.headers.get("Accept-Encoding")
    key = (node_id, column, vocabulary, accept, *flags.values())
    answer = _answers.get(project, key)
    if answer is None:
        final = project.index is not None  # the map is built: the answer is final

        def work() -> tuple[bytes, str]:
            data = _answer(project, node_id=node_id, column=column, vocabulary=vocabulary, **flags)
            return encode(data, accept)

        answer = await run_cll(state, work)
        if final:
            _answers.put(project, key, answer)
    data, encoding = answer
    response = Response(data, mimetype="application/json")
    response.vary.add("Accept-Encoding")
    if encoding != IDENTITY:
        response.headers["Content-Encoding"] = encoding
    return response


def _answer(project: Any, **params: Any) -> bytes:
    # Encoded (and compressed) in the worker thread too: the answer for a node deep in a big
    # project is megabytes.
    # Imported here, in the worker thread: sqlglot costs ~150 ms, kept off the startup path.
    from recce_trio.core.cll.api import CllRequestError
    from recce_trio.core.cll.wire import cll_json

    try:
        return cll_json(project, **params)
    except CllRequestError as exc:
        raise RequestError(str(exc)) from None


def register(app: Quart) -> None:
    app.add_url_rule("/api/cll", view_func=cll, methods=["POST"])
