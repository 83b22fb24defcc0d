"""Reading an uploaded file from a multipart body, shared by the routes that take uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import BodyPartReader, MultipartReader
from aiohttp.http_exceptions import HttpProcessingError

from tiaojie.errors import InvalidInput

__all__ = ["CHUNK_BYTES", "file_chunks", "malformed_multipart"]

CHUNK_BYTES = 256 * 1024


def malformed_multipart() -> InvalidInput:
    return InvalidInput("malformed multipart body", code="malformed_multipart")


async def file_chunks(reader: MultipartReader, part: BodyPartReader) -> AsyncIterator[bytes]:
    """The file part's bytes as they arrive. The file must be the last part and the body must close
    properly, so that a truncated upload is refused instead of stored."""
    try:
        while chunk := await part.read_chunk(CHUNK_BYTES):
            yield chunk
        if await reader.next() is not None:
            raise ValueError("a part after the file")
    except (ValueError, HttpProcessingError):
        raise malformed_multipart() from None
