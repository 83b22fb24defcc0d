"""Reading submitted HTML forms: text fields only, trimmed, blank as missing."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_request import FileField
from multidict import MultiDictProxy

__all__ = ["Form", "read_form", "text"]

Form = MultiDictProxy[str | bytes | bytearray | FileField]

_MAX_FIELD = 20_000


async def read_form(request: web.Request) -> Form:
    """The urlencoded (or multipart) body of a console form."""
    return await request.post()


def text(form: Form, name: str, *, limit: int = _MAX_FIELD, strip: bool = True) -> str | None:
    """A text field; None when absent, blank, or a file. Cut to ``limit + 1`` characters, so that a length
    check after this still sees that the value was too long."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    if strip:
        value = value.strip()
    return value[: limit + 1] or None
