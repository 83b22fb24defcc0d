"""Reading an uploaded file from a multipart body, shared by the routes that take uploads."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from tiaojie.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

__all__ = ["CHUNK_BYTES", "file_chunks", "file_part", "malformed_multipart"]

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


async def file_part(
    request: web.Request, limit: int, *, fields: tuple[str, ...] = ()
) -> tuple[dict[str, str], str, AsyncIterator[bytes]]:
    """A multipart/form-data body: the text ``fields`` named, in that order (the console's CSRF token),
    then one `file` part, read as it arrives (the body must end right after it, so a truncated upload is
    never stored). The fields, the file's declared type and its chunks."""
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("send the file as multipart/form-data")
    if request.content_length is not None and request.content_length > limit + 65536:
        raise PayloadTooLarge(f"files are limited to {limit} bytes", limit=limit)
    values: dict[str, str] = {}
    try:
        reader = await request.multipart()
        for name in fields:
            field = await reader.next()
            if not isinstance(field, BodyPartReader) or field.name != name:
                raise InvalidInput(f"the form starts with {name!r}", field=name, code="required")
            values[name] = (await field.read(decode=True))[:4096].decode("utf-8", "replace")
        part = await reader.next()
    except (AssertionError, ValueError, KeyError, HttpProcessingError):
        raise malformed_multipart() from None
    if part is None:
        raise InvalidInput("the upload has no `file` part", field="file", code="required")
    if not isinstance(part, BodyPartReader):
        raise malformed_multipart()
    if part.name != "file":
        raise InvalidInput(f"unexpected form field {part.name!r}", code="unknown_field", field=part.name)
    return values, part.headers.get("Content-Type", ""), file_chunks(reader, part)
