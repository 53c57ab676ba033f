"""`recce_trio.asgi:app` for `hypercorn --worker-class trio --config hypercorn.toml`.

Settings come from the environment (RECCE_PROJECT_DIR, RECCE_TARGET_PATH, RECCE_TARGET_BASE_PATH,
RECCE_STARTUP_TIMEOUT, ...); see docs/deploy.md. Each Hypercorn worker loads its own copy.
"""

from __future__ import annotations

import logging

from recce_trio.config import ServerConfig
from recce_trio.server.app import create_app

# Hypercorn configures its own loggers; give ours a handler of its own so nothing prints twice.
_log = logging.getLogger("recce_trio")
if not _log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    _log.addHandler(_handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False
app = create_app(ServerConfig.from_env())
