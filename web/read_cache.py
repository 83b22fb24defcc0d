"""Encoded answers of the hot read routes, kept while the database has not changed.

Court systems poll: the same case, the same first page of the list, again and again, while nothing changed.
A route declared ``cached=True`` keeps its encoded answer here under the caller's identity, the request's
path and query string and the day (deadline statuses change at midnight in Asia/Shanghai), stamped with the
read unit's ``epoch`` (:mod:`store.loop_reads`): a number that moves on as soon as any connection or process
has committed anything. An answer is served again only under the same epoch, so it is always what a fresh
read would give; a commit anywhere (a write by this process, by another worker, by the command line) empties
it at the next read. Where the database cannot tell (PostgreSQL), nothing is kept.

Authentication and authorisation still run for every request before the cache is asked: a key that was
revoked is refused, and the caller's identity is part of the key, so one caller never sees what was made for
another. Each answer also carries a strong ``ETag`` (over its bytes) so that a client may ask with
``If-None-Match`` and get ``304 Not Modified``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

__all__ = ["CachedAnswer", "ReadCache", "etag_of"]


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    body: bytes
    etag: str


class ReadCache:
    """At most ``entries`` answers and ``max_bytes`` of bodies, least recently used first out; everything
    goes at once when the epoch moves on."""

    def __init__(self, *, entries: int, max_bytes: int) -> None:
        if entries < 1 or max_bytes < 1:
            raise ValueError("a read cache holds at least one answer")
        self.entries = entries
        self.max_bytes = max_bytes
        self._answers: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._bytes = 0
        self._epoch: int | None = None
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._answers)

    @property
    def size(self) -> int:
        """Bytes of bodies held."""
        return self._bytes

    def _at(self, epoch: int) -> bool:
        """Whether what is held belongs to ``epoch``; held answers of an older one are dropped."""
        if epoch == self._epoch:
            return True
        if self._epoch is not None and epoch < self._epoch:
            return False  # a unit that began before the last move: neither served nor kept
        self._answers.clear()
        self._bytes = 0
        self._epoch = epoch
        return True

    def get(self, key: Hashable, epoch: int) -> CachedAnswer | None:
        answer = self._answers.get(key) if self._at(epoch) else None
        if answer is None:
            self.misses += 1
            return None
        self._answers.move_to_end(key)
        self.hits += 1
        return answer

    def put(self, key: Hashable, epoch: int, body: bytes, etag: str) -> None:
        if len(body) > self.max_bytes // 4 or not self._at(epoch):
            return
        old = self._answers.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        self._answers[key] = CachedAnswer(body, etag)
        self._bytes += len(body)
        while len(self._answers) > self.entries or self._bytes > self.max_bytes:
            _, dropped = self._answers.popitem(last=False)
            self._bytes -= len(dropped.body)
