"""`recce_trio.asgi:app` for `hypercorn --worker-class trio --config hypercorn.toml`.

Settings come from the environment (RECCE_PROJECT_DIR, RECCE_TARGET_PATH, RECCE_TARGET_BASE_PATH,
RECCE_STARTUP_TIMEOUT, ...); see docs/deploy.md. Each Hypercorn worker loads its own copy.
"""

from __future__ import annotations

import logging

from recce_trio.app import create_app
from recce_trio.config import ServerConfig

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = create_app(ServerConfig.from_env())
