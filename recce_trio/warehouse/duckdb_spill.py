"""The folder DuckDB spills into: one per process, private, removed at exit."""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile

_spill: list[str] = []  # this process's spill folder, once made


def spill_folder() -> str:
    """This process's folder for DuckDB's spill files (0700, removed at exit). One folder for
    every connection: DuckDB refuses a second connection to a file with other settings. If a
    temp cleaner removed it from under a long-running server, it is made again at the same
    path (so the settings stay the same), unless someone else's file now holds that name."""
    if _spill:
        folder = _spill[0]
        try:
            os.mkdir(folder, 0o700)
            return folder  # it was gone: made again
        except FileExistsError:
            found = os.lstat(folder)
            if stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid():
                return folder
        _spill.clear()  # not ours any more: take a new one
    folder = tempfile.mkdtemp(prefix="recce-trio-duckdb-")
    atexit.register(shutil.rmtree, folder, True)
    _spill.append(folder)
    return folder
