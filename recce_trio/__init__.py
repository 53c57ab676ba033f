"""recce-trio: a Trio-native server for reviewing what a dbt change does."""

import time

__version__ = "0.1.0"

# Start-up timings count from here (the first import of the package), imports included.
STARTED_AT = time.perf_counter()
