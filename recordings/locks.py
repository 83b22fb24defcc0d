"""Locks between the processes of one machine (the workers share its disk): ``flock`` on a file.

Recovering cut-off recordings and rendering touch files that only processes on the same machine can see;
one process at a time should do each, whichever topology the deployment has. The lock is released when the
holder closes it or dies, so a crashed worker never leaves it taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["machine_lock"]


@contextlib.contextmanager
def machine_lock(path: Path) -> Iterator[bool]:
    """Try to take the lock at ``path`` without waiting; yields whether this process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
