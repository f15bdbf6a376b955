"""File locks shared by the processes of one machine (web, worker, commands): the catalog's Git mirrors and the
Builder's repositories. A wait for one always has an end, so a holder that hangs costs the next one an error."""

from __future__ import annotations

import fcntl
import time
from typing import IO

POLL_SECONDS = 0.05


def flock_within(handle: IO, timeout: float) -> bool:
    """Take the exclusive lock of the open file ``handle`` within ``timeout`` seconds; False when another holder
    kept it that long. (A lock held through another open file of this same process counts as another holder.)"""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECONDS)
