"""Content-addressed file storage for uploaded materials (and, later, recordings and documents)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tiaojie.errors import NotFound, PayloadTooLarge

__all__ = ["FileStore", "LocalFileStore", "StoredFile", "put_bytes"]


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    sha256: str
    size: int


class FileStore(Protocol):
    async def put(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StoredFile: ...

    def path(self, key: str) -> Path: ...

    async def discard(self, key: str) -> None: ...


class LocalFileStore:
    """Files under one directory, named by their SHA-256 (``ab/cd/abcd…``); identical uploads share a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def put(self, chunks: AsyncIterable[bytes], *, max_bytes: int) -> StoredFile:
        """Stream ``chunks`` to disk, hashing as it goes; stops with PayloadTooLarge past ``max_bytes``.

        Nothing is left behind when the upload fails.
        """
        incoming = self.root / "incoming"
        await asyncio.to_thread(incoming.mkdir, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=incoming)
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as fh:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise PayloadTooLarge(f"file is larger than {max_bytes} bytes", limit=max_bytes)
                    digest.update(chunk)
                    await asyncio.to_thread(fh.write, chunk)
                await asyncio.to_thread(os.fsync, fh.fileno())
            sha = digest.hexdigest()
            key = f"{sha[:2]}/{sha[2:4]}/{sha}"
            final = self.root / key
            await asyncio.to_thread(final.parent.mkdir, parents=True, exist_ok=True)
            await asyncio.to_thread(os.replace, tmp, final)
            return StoredFile(key=key, sha256=sha, size=size)
        finally:
            await asyncio.to_thread(tmp.unlink, missing_ok=True)

    async def discard(self, key: str) -> None:
        """Remove a file this process stored and no row refers to (content-addressed: only for content no
        one else can have stored, such as a sealed PDF with its own verification code). Gone already: fine."""
        try:
            target = self.path(key)
        except NotFound:
            return
        await asyncio.to_thread(target.unlink, missing_ok=True)

    def path(self, key: str) -> Path:
        candidate = (self.root / key).resolve()
        if self.root.resolve() not in candidate.parents or not candidate.is_file():
            raise NotFound("file not found")
        return candidate


async def put_bytes(store: FileStore, data: bytes) -> StoredFile:
    """Store bytes already in memory (a rendered or sealed document)."""

    async def one() -> AsyncIterator[bytes]:
        yield data

    return await store.put(one(), max_bytes=max(len(data), 1))
