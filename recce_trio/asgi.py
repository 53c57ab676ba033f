"""`recce_trio.asgi:app` for `hypercorn --worker-class trio --config hypercorn.toml`.

Settings come from the environment (RECCE_PROJECT_DIR, RECCE_TARGET_PATH, ...), read and
checked by the same settings table as `recce-trio server`; see docs/deploy.md. A bad setting
stops the worker before it serves, with the same message `recce-trio server` gives. Each
Hypercorn worker loads its own copy of the artifacts.
"""

from __future__ import annotations

import logging
import sys

from recce_trio import settings
from recce_trio.errors import ConfigError
from recce_trio.server.app import create_app

# Hypercorn configures its own loggers; give ours a handler of its own so nothing prints twice.
_log = logging.getLogger("recce_trio")
if not _log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False

try:
    _config = settings.load("asgi")
except ConfigError as exc:
    print(f"Error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(2) from None
if _config.state_file_read_only:
    _log.warning(
        "%s is read-only: the review is served read-only, and changes to its checks cannot "
        "be saved.",
        _config.state_file,
    )
app = create_app(_config)
