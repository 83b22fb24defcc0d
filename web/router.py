"""Declared API routes: one decorator gives the handler, the validated types and the OpenAPI document.

A route names its request body, query and response models; the wrapper parses and validates them, opens
the unit of work (a session, read-only for GET; or for ``rows=True`` routes a lean :class:`store.rows.Rows`
unit of Core reads), authenticates the caller, replays ``Idempotency-Key`` retries, and
serialises the result with the same response model that the OpenAPI document shows.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from cases.tables import IdempotencyRecord
from store.rows import Rows
from tiaojie.errors import (
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from tiaojie.ids import is_id, new_id
from tiaojie.jsonvalue import dumps
from web.auth import SESSION_COOKIE, authenticate
from web.errors import invalid_input
from web.read_cache import CachedAnswer, etag_of
from web.services import SERVICES, Services

__all__ = ["ApiCall", "ApiRouter", "Authenticator", "Endpoint", "Json"]

M = TypeVar("M", bound=BaseModel)
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
# NUL cannot be stored in PostgreSQL text, and an unpaired surrogate (a "\ud800" escape in JSON) cannot be
# encoded as UTF-8 at all: both are refused at the edge rather than failing in the database driver.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _refuse_unstorable_text(document: Any, where: str = "") -> None:
    """InvalidInput ``invalid_characters`` naming the first string (value or key) that cannot be stored."""
    stack: list[tuple[str, Any]] = [(where, document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if _UNSTORABLE.search(node):
                raise InvalidInput(
                    "text must not contain NUL characters or unpaired surrogates",
                    field=path or None,
                    code="invalid_characters",
                )
        elif isinstance(node, dict):
            for name, value in node.items():
                if _UNSTORABLE.search(name):
                    raise InvalidInput(
                        "field names must not contain NUL characters or unpaired surrogates",
                        field=path or None,
                        code="invalid_characters",
                    )
                stack.append((f"{path}.{name}" if path else name, value))
        elif isinstance(node, list):
            stack.extend(
                (f"{path}.{index}" if path else str(index), value) for index, value in enumerate(node)
            )


@dataclass(slots=True)
class ApiCall:
    """One API request as the handler sees it."""

    request: web.Request
    services: Services
    caller: Principal | None  # None only on a public route called without credentials
    path: dict[str, str]
    body: BaseModel | None = None
    query: BaseModel | None = None
    unit: AsyncSession | Rows | None = None
    prepared: Any = None  # what the route's ``prepare`` step returned
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    """Work to do once the route's unit of work has committed (sending an SMS): run in order before the
    answer goes out, which is then rendered again from the handler's result (a job may have updated it;
    the idempotency record keeps the answer as it was at the commit); an error it raises is the answer
    (what was committed stays)."""

    @property
    def principal(self) -> Principal:
        """The authenticated caller (every route but the public ones, whose caller may be anonymous)."""
        assert self.caller is not None, "a public route's caller may be anonymous: use `caller`"
        return self.caller

    @property
    def session(self) -> AsyncSession:
        """The route's session (every route but those declared with ``rows=True``)."""
        assert isinstance(self.unit, AsyncSession), "a rows=True route has no session"
        return self.unit

    @property
    def rows(self) -> Rows:
        """The route's read unit (routes declared with ``rows=True``)."""
        unit = self.unit
        assert unit is not None, "not a rows=True route"
        assert not isinstance(unit, AsyncSession), "not a rows=True route"
        return unit

    def body_as(self, model: type[M]) -> M:
        assert isinstance(self.body, model)
        return self.body

    def query_as(self, model: type[M]) -> M:
        assert isinstance(self.query, model)
        return self.query


@dataclass(frozen=True, slots=True)
class Json:
    """A response document already made of JSON values (see :mod:`tiaojie.jsonvalue`), in the shape of the
    route's response model: encoded as it is, without validating it through the model again."""

    document: Any


Handler = Callable[[ApiCall], Awaitable[Any]]


@dataclass(slots=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    description: str = ""
    idempotent: bool = False
    multipart: bool = False
    raw_response: str | None = None  # media type of a non-JSON response (file downloads)
    alternatives: tuple[str, ...] = ()  # other media types the JSON response is also offered as (text/csv)
    errors: tuple[int, ...] = ()
    rows: bool = False  # reads only, with bounded Core statements: a Rows unit instead of a session
    # Work done before the unit of work opens (its result is ``call.prepared``): slow checks that need no
    # database, such as resolving a host name, so that they never hold SQLite's write lock.
    prepare: Handler | None = None
    cached: bool = False  # a rows route whose answers the read cache may keep (web/read_cache.py)
    writes: bool | None = None  # a writing session; default: every method but GET and HEAD
    public: bool = False  # callers without credentials too (``call.caller`` is None for them)
    adapter: TypeAdapter[Any] | None = field(default=None, repr=False)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


Authenticator = Callable[[web.Request, Services], Awaitable[Principal]]


class ApiRouter:
    """``authenticator`` finds the caller of every route (default: an API key or a console session); a
    router for another kind of caller (a party's signing link) brings its own."""

    def __init__(self, prefix: str = "/api/v1", *, authenticator: Authenticator | None = None) -> None:
        self.prefix = prefix
        self.endpoints: list[Endpoint] = []
        self.authenticator: Authenticator = authenticator or authenticate

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tags: Sequence[str],
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        idempotent: bool = False,
        multipart: bool = False,
        raw_response: str | None = None,
        alternatives: Sequence[str] = (),
        errors: Sequence[int] = (),
        rows: bool = False,
        cached: bool = False,
        prepare: Handler | None = None,
        writes: bool | None = None,
        public: bool = False,
    ) -> Callable[[Handler], Handler]:
        if rows and (method.upper() != "GET" or idempotent):
            raise ValueError("rows=True is for reading routes")
        if cached and not rows:
            raise ValueError("cached=True is for rows=True routes")

        def decorate(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    summary=summary,
                    tags=tuple(tags),
                    body=body,
                    query=query,
                    response=response,
                    status=status,
                    description=(handler.__doc__ or "").strip(),
                    idempotent=idempotent,
                    multipart=multipart,
                    raw_response=raw_response,
                    alternatives=tuple(alternatives),
                    errors=tuple(errors),
                    rows=rows,
                    cached=cached,
                    prepare=prepare,
                    writes=writes,
                    public=public,
                    adapter=TypeAdapter(response) if response is not None else None,
                )
            )
            return handler

        return decorate

    def setup(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(
                endpoint.method, self.prefix + endpoint.path, _wrap(endpoint, self.authenticator)
            )


def _parse_query(endpoint: Endpoint, request: web.Request) -> BaseModel | None:
    if endpoint.query is None:
        if request.query:
            raise InvalidInput(
                "this endpoint takes no query parameters",
                code="unknown_parameter",
                field=next(iter(request.query)),
            )
        return None
    values: dict[str, Any] = {}
    many = _list_fields(endpoint.query)
    for name in request.query:
        if name in values:
            continue
        values[name] = request.query.getall(name) if name in many else request.query[name]
        _refuse_unstorable_text(values[name], name)
    try:
        return endpoint.query.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc) from None


@functools.cache
def _list_fields(model: type[BaseModel]) -> frozenset[str]:
    """The query fields that take a list (``?state=a&state=b``)."""
    return frozenset(name for name, info in model.model_fields.items() if "list" in str(info.annotation))


async def _parse_body(
    endpoint: Endpoint, request: web.Request, services: Services
) -> tuple[BaseModel | None, bytes]:
    if endpoint.body is None:
        return None, b""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json", code="unsupported_media_type")
    limit = services.settings.max_json_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes", limit=limit)
    raw = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        raw.extend(chunk)
        if len(raw) > limit:
            raise PayloadTooLarge(f"JSON bodies are limited to {limit} bytes", limit=limit)
    try:
        document = json.loads(raw, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer beyond int_max_str_digits
        raise InvalidInput(f"malformed JSON: {exc.__class__.__name__}", code="malformed_json") from None
    except RecursionError:
        raise InvalidInput("malformed JSON: nested too deeply", code="malformed_json") from None
    if not isinstance(document, dict):
        raise InvalidInput("the body must be a JSON object", code="malformed_json")
    _refuse_unstorable_text(document)
    try:
        return endpoint.body.model_validate(document), bytes(raw)
    except ValidationError as exc:
        raise invalid_input(exc) from None


def _render(endpoint: Endpoint, result: Any) -> web.StreamResponse:
    if isinstance(result, web.StreamResponse):
        return result
    status = endpoint.status
    if isinstance(result, tuple):
        status, result = result
    if status == 204 or endpoint.adapter is None:
        return web.Response(status=204)
    if isinstance(result, Json):
        body = dumps(result.document)
    else:
        body = endpoint.adapter.dump_json(result, by_alias=True)
    return web.Response(body=body, status=status, content_type="application/json")


def _wrap(
    endpoint: Endpoint, authenticator: Authenticator = authenticate
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    writes = endpoint.method not in ("GET", "HEAD") if endpoint.writes is None else endpoint.writes

    async def handle_rows(request: web.Request) -> web.StreamResponse:
        services = request.app[SERVICES]
        principal = await _caller(endpoint, authenticator, request, services)
        cache = services.read_cache if endpoint.cached else None
        who = principal.visibility_key if principal is not None else None
        key = (endpoint.operation_id, who, request.raw_path, services.cases.today())
        async with services.db.rows() as rows:
            epoch = rows.epoch
            if cache is not None and epoch is not None:
                answer = cache.get(key, epoch)
                if answer is not None:
                    return _cached(request, answer)
            _check_path(request)
            query = _parse_query(endpoint, request)
            call = ApiCall(request, services, principal, dict(request.match_info), query=query, unit=rows)
            result = await endpoint.handler(call)
        response = _render(endpoint, result)  # encoded after the read unit has ended
        if cache is None or epoch is None or type(response) is not web.Response or response.status != 200:
            return response
        body = response.body
        assert isinstance(body, bytes)
        answer = CachedAnswer(body, etag_of(body))
        cache.put(key, epoch, answer.body, answer.etag)
        return _cached(request, answer)

    async def handle(request: web.Request) -> web.StreamResponse:
        services = request.app[SERVICES]
        principal = await _caller(endpoint, authenticator, request, services)
        _check_path(request)
        query = _parse_query(endpoint, request)
        body, raw = await _parse_body(endpoint, request, services)
        key = request.headers.get("Idempotency-Key") if endpoint.idempotent else None
        if key is not None and not _IDEMPOTENCY_KEY.match(key):
            raise InvalidInput(
                "Idempotency-Key must be 1–200 printable ASCII characters", field="Idempotency-Key"
            )
        prepared = None
        if endpoint.prepare is not None:
            path = dict(request.match_info)
            prepared = await endpoint.prepare(ApiCall(request, services, principal, path, body, query))
        opener = services.db.session if writes else services.db.read
        try:
            async with opener() as session:
                if key is not None:
                    fingerprint = _fingerprint(request, raw)
                    assert principal is not None, "public routes are not idempotent"
                    replay = await _replay(session, principal, key, fingerprint)
                    if replay is not None:
                        return replay
                call = ApiCall(
                    request=request,
                    services=services,
                    unit=session,
                    caller=principal,
                    path=dict(request.match_info),
                    body=body,
                    query=query,
                    prepared=prepared,
                )
                result = await endpoint.handler(call)
                response = _render(endpoint, result)
                if key is not None and principal is not None and isinstance(response, web.Response):
                    session.add(
                        IdempotencyRecord(
                            id=new_id("idm"),
                            owner=principal.audit_key,
                            key=key,
                            method=request.method,
                            path=request.path,
                            request_hash=fingerprint,
                            status_code=response.status,
                            response=json.loads(response.body) if response.body else {},  # type: ignore[arg-type]
                            created_at=services.clock.now(),
                        )
                    )
                    await session.flush()
            if call.after_commit:
                for job in call.after_commit:  # committed: now what had to wait for it
                    await job()
                response = _render(endpoint, result)  # as the jobs left it (an idempotent replay: as stored)
            return response
        except (IntegrityError, Conflict):
            if key is None:
                raise
            # Another request with the same key committed first (its rows or its key record won the unique
            # constraint): answer with its result.
            assert principal is not None
            async with services.db.read() as session:
                replay = await _replay(session, principal, key, _fingerprint(request, raw))
            if replay is None:
                raise
            return replay

    if endpoint.rows:
        handle_rows.__name__ = endpoint.operation_id
        return handle_rows
    handle.__name__ = endpoint.operation_id
    return handle


def _cached(request: web.Request, answer: CachedAnswer) -> web.Response:
    """A cacheable answer, or 304 when the client holds it already (``If-None-Match``)."""
    # no-store as every API answer (personal data stays off disk caches); a client that keeps answers itself
    # revalidates with If-None-Match.
    headers = {"ETag": answer.etag, "Cache-Control": "private, no-cache, no-store"}
    if _matches(request.headers.get("If-None-Match"), answer.etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=answer.body, content_type="application/json", headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, as RFC 9110 asks) or is ``*``."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


async def _caller(
    endpoint: Endpoint, authenticator: Authenticator, request: web.Request, services: Services
) -> Principal | None:
    """The authenticated caller; None for a public route called without credentials (credentials that are
    sent must be valid, also there)."""
    if endpoint.public and "Authorization" not in request.headers and SESSION_COOKIE not in request.cookies:
        return None
    return await authenticator(request, services)


def _check_path(request: web.Request) -> None:
    for name, value in request.match_info.items():
        # every identifier parameter is an identifier: anything else names nothing
        if name.endswith("_id") and not is_id(value):
            raise NotFound(f"{name.removesuffix('_id')} not found", resource=name.removesuffix("_id"))


def _fingerprint(request: web.Request, raw: bytes) -> str:
    return hashlib.sha256(b"%s %s\n" % (request.method.encode(), request.path.encode()) + raw).hexdigest()


async def _replay(
    session: AsyncSession, principal: Principal, key: str, fingerprint: str
) -> web.Response | None:
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.owner == principal.audit_key, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was used for a different request", code="idempotency_key_reused"
        )
    return web.json_response(
        record.response,
        status=record.status_code,
        headers={"Idempotent-Replayed": "true"},
        dumps=lambda v: json.dumps(v, ensure_ascii=False),
    )
