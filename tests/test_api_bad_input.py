"""Malformed input on every route of the OpenAPI document, and the document itself.

The routes come from ``/api/v1/openapi.json``, so a new route is covered as soon as it is declared. Routes
with real ids (``tests.apihelp.rich_case``) and a valid body (``tests.apihelp.valid_body``) get one bad
value at a time in an otherwise valid request; a route not known there yet is still sent every malformation,
with ids of nothing in its path. Each request is checked for:

- a status below 500, and on 4xx an ``error`` object with a string ``code``;
- for a field-level error, the field named (``parties.0.id_number``), and the rejected value not echoed;
- nothing stored changing (row counts, each case's and roster entry's version and state).
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from yarl import URL

from tests import apihelp
from tests.apihelp import (
    API,
    PDF,
    Actors,
    Caller,
    Reply,
    no_such_id,
    rich_case,
    snapshot,
    upload_form,
    valid_body,
)
from tests.factories import case_payload, resident_id

_PARAM = re.compile(r"\{(\w+)\}")

# Who would legitimately send each body (so that nothing but the malformation stands in the way).
_CALLER: dict[str, str] = {
    "accept_case": "mediator1",
    "decline_case": "mediator1",
    "extend_case": "mediator1",
    "create_disclosure": "mediator1",
    "disclosure_consent": "mediator1",
    "decide_change_request": "union1",
    "create_organisation": "union1",
    "create_mediator": "union1",
    "update_mediator": "union1",
    "submit_roster_entry": "union1",
    "decide_roster_entry": "court_b",
}

actors = apihelp.actors


@dataclass(frozen=True, slots=True)
class Raw:
    """A JSON fragment written into the body as it is (numbers Python's json module cannot produce)."""

    text: str


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]

    @property
    def operation_id(self) -> str:
        return str(self.spec["operationId"])

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.template)

    def body_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return schema if isinstance(schema, dict) else None

    @property
    def multipart(self) -> bool:
        return "multipart/form-data" in self.spec.get("requestBody", {}).get("content", {})

    def path(self, values: dict[str, str]) -> str:
        return _PARAM.sub(lambda m: values[m.group(1)], self.template)


def encode(body: Any) -> bytes:
    raws: dict[str, str] = {}

    def walk(value: Any) -> Any:
        if isinstance(value, Raw):
            key = f"__raw_{len(raws)}__"
            raws[key] = value.text
            return key
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    text = json.dumps(walk(body))  # ASCII only: lone surrogates are written as \ud800 escapes
    for key, raw in raws.items():
        text = text.replace(f'"{key}"', raw)
    return text.encode()


class Schemas:
    """Reading the document's JSON schemas: $ref resolution, nullable unions, bad values for a field."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema:
            ref = schema["$ref"]
            assert ref.startswith("#/"), ref
            node: Any = self.doc
            for part in ref[2:].split("/"):
                node = node[part]
            schema = node
            seen += 1
            assert seen < 20, ref
        return schema

    def options(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        schema = self.resolve(schema)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if not branches:
            return [] if schema.get("type") == "null" else [schema]
        return [option for branch in branches for option in self.options(branch)]

    def bad_values(self, schema: dict[str, Any]) -> list[tuple[str, Any]]:
        """Values this field must refuse, each with a label."""
        options = self.options(schema)
        types = {o.get("type") for o in options}
        formats = {o.get("format") for o in options}
        out: list[tuple[str, Any]] = []
        if any("enum" in o for o in options):
            return [("unknown enum value", "__no_such_value__"), ("number for an enum", 7), ("list", ["a"])]
        if "date-time" in formats:
            return [
                ("not a time", "next tuesday"),
                ("31 February", "2026-02-31T10:00:00+08:00"),
                ("hour 25", "2026-03-01T25:00:00+08:00"),
                ("year 1", "0001-01-01T00:00:00+01:00"),
                ("year 9999", "9999-12-31T23:59:59-01:00"),
                ("list", ["2026-03-01T10:00:00+08:00"]),
            ]
        if "date" in formats:
            return [
                ("month 13", "2026-13-01"),
                ("year 0", "0000-01-01"),
                ("not a date", "soon"),
                ("object", {}),
            ]
        if "string" in types:
            out += [("list", ["a"]), ("object", {"a": 1}), ("boolean", True)]
            out += [("100k characters", "x" * 100_000), ("NUL", "ab\x00cd"), ("lone surrogate", "ab\ud800cd")]
            out += [("lone low surrogate", "\udfffxyz")]
            if "number" not in types:
                out.append(("number", 12345))
        if "integer" in types:
            integer = next(o for o in options if o.get("type") == "integer")
            out += [("text", "many"), ("fraction", 1.5), ("list", [1]), ("NaN", Raw("NaN"))]
            out += [("5000 digits", Raw("9" * 5000)), ("1e400", Raw("1e400"))]
            if integer.get("minimum", -1) >= 0:
                out.append(("negative", -1))
            if "maximum" in integer:
                out.append(("huge", 10**30))
        if "number" in types:
            number = next(o for o in options if o.get("type") == "number")
            out += [
                ("text", "lots"),
                ("NaN", Raw("NaN")),
                ("Infinity", Raw("-Infinity")),
                ("1e400", Raw("1e400")),
            ]
            out += [("5000 digits", Raw("9" * 5000)), ("too precise", "0.001"), ("too many digits", "9" * 20)]
            if number.get("minimum", -1) >= 0:
                out.append(("negative", -1))
        if "boolean" in types:
            out += [("text", "maybe"), ("two", 2), ("list", [True])]
        if "array" in types:
            array = next(o for o in options if o.get("type") == "array")
            out += [("text", "abc"), ("object", {"a": 1}), ("number", 7)]
            if "maxItems" in array:
                out.append(("too many items", [None] * (array["maxItems"] + 1)))
        if "object" in types:
            out += [("text", "abc"), ("list", [])]
        assert out, f"no bad values for {schema}"
        return out

    def mutations(
        self, schema: dict[str, Any], base: Any, prefix: tuple[Any, ...] = ()
    ) -> Iterator[tuple[str, tuple[Any, ...], Any]]:
        """(label, path, value) for every field of an object schema and the objects nested in it."""
        schema = self.resolve(schema)
        yield "unknown field", (*prefix, "__bogus__"), 1
        for name in schema.get("required", []):
            yield "missing", (*prefix, name), _MISSING
        for name, field in schema.get("properties", {}).items():
            for label, value in self.bad_values(field):
                yield label, (*prefix, name), value
            nested = base.get(name) if isinstance(base, dict) else None
            for option in self.options(field):
                if option.get("type") == "array" and isinstance(nested, list) and nested:
                    item = self.resolve(option.get("items", {}))
                    if item.get("type") == "object" or "properties" in item:
                        yield from self.mutations(item, nested[0], (*prefix, name, 0))


_MISSING = object()


def _set(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(body)
    node = body
    for part in path[:-1]:
        node = node[part]
    if value is _MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return body


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def check(reply: Reply, context: Any) -> None:
    """Below 500, and every 4xx carries an error object with a code."""
    assert reply.status < 500, (context, reply.status, reply.text[:1000])
    if reply.status >= 400:
        assert isinstance(reply.body, dict), (context, reply.status, reply.text[:300])
        error = reply.body.get("error")
        assert isinstance(error, dict), (context, reply.text[:300])
        assert isinstance(error.get("code"), str), (context, reply.text[:300])
        assert error["code"], (context, reply.text[:300])
        assert isinstance(error.get("message"), str), (context, reply.text[:300])


def check_rejected(reply: Reply, context: Any, *, field: str | None = None, value: Any = None) -> None:
    check(reply, context)
    assert 400 <= reply.status < 500, (context, reply.status, reply.text[:500])
    if field is not None:
        error = reply.error
        named = {error.get("field")} | {e.get("field") for e in error.get("errors", [])}
        assert any(f == field or (f or "").startswith(field + ".") for f in named), (context, field, error)
    if isinstance(value, str) and len(value) >= 5:
        for form in {value[:100], json.dumps(value)[1:101]}:
            assert form not in reply.text, (context, "the rejected value is echoed", reply.text[:300])


class Routes:
    """The document's operations, the callers that would use them, and real ids to put in their paths."""

    def __init__(self, actors: Actors, doc: dict[str, Any], ids: dict[str, str]) -> None:
        self.actors = actors
        self.doc = doc
        self.schemas = Schemas(doc)
        self.ids = ids
        self.operations = [
            Operation(method.upper(), path.removeprefix(API), op)
            for path, item in doc["paths"].items()
            for method, op in item.items()
        ]
        assert len(self.operations) >= 35

    async def caller(self, operation: Operation) -> Caller:
        who = _CALLER.get(operation.operation_id, "court_a")
        if who.startswith("mediator"):
            return await self.actors.user(who)
        return self.actors.key(who)

    def known(self, operation: Operation) -> bool:
        """Whether this test has real ids for the path and a valid body (tests.apihelp.valid_body).

        A route it does not know yet is still tested, with ids of nothing in its path (so that nothing can
        change) and bad values set into an empty body; add it to ``rich_case`` and ``valid_body`` to test it
        against real data."""
        if not all(name in self.ids for name in operation.params):
            return False
        return operation.body_schema() is None or self.valid(operation) is not None

    def valid(self, operation: Operation) -> Any:
        return valid_body(operation.operation_id, self.ids, self.actors.world)

    def values(self, operation: Operation) -> dict[str, str]:
        if self.known(operation):
            return self.ids
        return {name: no_such_id(name) for name in operation.params}

    def body(self, operation: Operation) -> Any:
        base = self.valid(operation)
        if base is None and operation.body_schema() is not None:
            return {}
        return base

    async def send(self, operation: Operation, caller: Caller, path: str, body: Any) -> Reply:
        if operation.multipart:
            return await caller.call(operation.method, path, data=upload_form())
        if body is None:
            return await caller.call(operation.method, path)
        return await caller.call(
            operation.method, path, data=encode(body), headers={"Content-Type": "application/json"}
        )


@pytest.fixture
async def routes(actors: Actors) -> Routes:
    ids = await rich_case(actors)
    doc = await actors.court_a.get("/openapi.json")
    return Routes(actors, doc, ids)


# --- the document --------------------------------------------------------------------------------------


async def test_openapi_document_is_valid_31(routes: Routes) -> None:
    doc = routes.doc
    assert doc["openapi"].startswith("3.1")
    assert doc["info"]["title"]
    assert doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operation_ids: list[str] = []
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/")
        declared = set(_PARAM.findall(path))
        for method, op in item.items():
            assert method in {"get", "post", "put", "patch", "delete"}, (path, method)
            operation_ids.append(op["operationId"])
            assert op["summary"], (path, method)
            assert op["tags"], (path, method)
            assert set(op["tags"]) <= {t["name"] for t in doc["tags"]}
            params = op.get("parameters", [])
            path_params = {p["name"] for p in params if p["in"] == "path"}
            assert path_params == declared, (path, method)
            assert all(p["required"] for p in params if p["in"] == "path")
            assert all(p["in"] in {"path", "query", "header"} and "schema" in p for p in params)
            names = [(p["name"], p["in"]) for p in params]
            assert len(names) == len(set(names)), (path, method)
            responses = op["responses"]
            assert responses, (path, method)
            assert any(code.startswith("2") for code in responses), (path, method)
            for code, response in responses.items():
                assert re.fullmatch(r"[1-5][0-9][0-9]", code), code
                assert response["description"]
                for media in response.get("content", {}).values():
                    assert "schema" in media
            assert "401" in responses
            if "requestBody" in op:
                assert op["requestBody"]["content"]
                assert method != "get"
    assert len(operation_ids) == len(set(operation_ids)), "operationId must be unique"

    # Every $ref resolves inside the document, and no component is left dangling.
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in set(refs):
        assert ref.startswith("#/components/schemas/"), ref
        resolved = routes.schemas.resolve({"$ref": ref})
        assert isinstance(resolved, dict), ref
        assert resolved, ref
    used = {ref.rsplit("/", 1)[1] for ref in refs}
    assert used == set(doc["components"]["schemas"]), set(doc["components"]["schemas"]) ^ used
    # Every schema is a JSON Schema object: a type, a reference, a union, an enum or a constant.
    for name, schema in doc["components"]["schemas"].items():
        assert isinstance(schema, dict), name
        assert {"type", "enum", "anyOf", "oneOf", "allOf", "const"} & set(schema), name


async def test_the_document_matches_the_routes(routes: Routes) -> None:
    """What the API answers has the shape the document promises (spot checks of a few GETs)."""
    ids = routes.ids
    case = await routes.actors.court_a.get(f"/cases/{ids['case_id']}")
    for operation in routes.operations:
        if operation.operation_id != "get_case":
            continue
        schema = operation.spec["responses"]["200"]["content"]["application/json"]["schema"]
        properties = routes.schemas.resolve(schema)["properties"]
        assert set(case) == set(properties)
    error = await routes.actors.court_a.get("/cases/cas_00000000000000000000000000", 404)
    assert set(error) == {"error"}
    assert {"code", "message"} <= set(error["error"])


# --- bodies --------------------------------------------------------------------------------------------


def _generic_bodies(limit: int) -> list[tuple[str, dict[str, str], bytes]]:
    json_type = {"Content-Type": "application/json"}
    return [
        ("invalid JSON", json_type, b'{"a": '),
        ("JSON array", json_type, b"[1, 2, 3]"),
        ("JSON string", json_type, b'"text"'),
        ("JSON null", json_type, b"null"),
        ("empty body", json_type, b""),
        ("whitespace", json_type, b"  \n "),
        ("not UTF-8", json_type, b'{"reason": "\xff\xfe"}'),
        ("deep nesting", json_type, b"[" * 100_000 + b"]" * 100_000),
        ("deep object", json_type, b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("5000-digit number", json_type, b'{"a": ' + b"9" * 5000 + b"}"),
        ("NaN", json_type, b'{"a": NaN}'),
        ("text/plain", {"Content-Type": "text/plain"}, b"{}"),
        ("form", {"Content-Type": "application/x-www-form-urlencoded"}, b"a=1"),
        ("multipart", {"Content-Type": "multipart/form-data; boundary=x"}, b"--x--\r\n"),
        ("no content type", {}, b"{}"),
        ("too large", json_type, b'{"a": "' + b"x" * (limit + 10) + b'"}'),
    ]


async def test_malformed_bodies_on_every_route(routes: Routes) -> None:
    services = routes.actors.services
    limit = services.settings.max_json_bytes
    before = await snapshot(services)
    for operation in routes.operations:
        caller = await routes.caller(operation)
        path = operation.path(routes.values(operation))
        takes_body = operation.body_schema() is not None or operation.multipart
        for label, headers, raw in _generic_bodies(limit):
            if not takes_body and label not in ("invalid JSON", "JSON array", "too large"):
                continue  # the route takes no body: whatever is sent is ignored; a few will do
            context = (operation.operation_id, label)
            data = io.BytesIO(raw) if len(raw) > 65536 else raw
            reply = await caller.call(operation.method, path, data=data, headers=headers)
            check(reply, context)
            if not takes_body:
                continue
            assert 400 <= reply.status < 500, (context, reply.status, reply.text[:300])
            wrong_type = label in ("text/plain", "form", "no content type", "multipart")
            if operation.multipart:  # the type is checked first: only the "multipart" body has the right one
                assert reply.status == (422 if label == "multipart" else 415), (context, reply.status)
            elif label == "too large":
                assert (reply.status, reply.error["code"]) == (413, "payload_too_large"), context
            elif wrong_type:
                assert (reply.status, reply.error["code"]) == (415, "unsupported_media_type"), context
            else:
                assert reply.status == 422, (context, reply.status, reply.text[:300])
                assert reply.error["code"] == "malformed_json", (context, reply.body)
        if operation.method != "GET":
            assert await snapshot(services) == before, operation.operation_id


async def test_a_streamed_body_over_the_limit_is_refused(routes: Routes) -> None:
    limit = routes.actors.services.settings.max_json_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"reason": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    case_id = routes.ids["case_id"]
    mediator = await routes.actors.user("mediator1")
    before = await snapshot(routes.actors.services)
    reply = await mediator.call(
        "POST", f"/cases/{case_id}/decline", data=chunks(), headers={"Content-Type": "application/json"}
    )
    check_rejected(reply, "chunked")
    assert (reply.status, reply.error["code"]) == (413, "payload_too_large")
    assert await snapshot(routes.actors.services) == before


async def test_bad_values_in_every_field_of_every_body(routes: Routes) -> None:
    services = routes.actors.services
    checked = 0
    for operation in routes.operations:
        schema = operation.body_schema()
        if schema is None:
            continue
        base = routes.body(operation)
        known = routes.known(operation)
        caller = await routes.caller(operation)
        path = operation.path(routes.values(operation))
        before = await snapshot(services)
        for label, field_path, value in routes.schemas.mutations(schema, base):
            if label == "missing" and not known:
                continue  # an empty body without a field might be valid
            body = _set(base, field_path, value)
            reply = await routes.send(operation, caller, path, body)
            dotted = _dotted(field_path)
            context = (operation.operation_id, dotted, label)
            named = None if isinstance(value, Raw) else dotted
            check_rejected(reply, context, field=named if known else None, value=value)
            if not isinstance(value, Raw) and known:
                assert reply.status == 422, (context, reply.status, reply.text[:300])
            checked += 1
        assert await snapshot(services) == before, operation.operation_id
    assert checked > 500


async def test_identifier_errors_name_the_field_and_never_echo_the_value(routes: Routes) -> None:
    court = routes.actors.court_a
    valid = resident_id()
    wrong_check = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    cases = [
        ("parties.0.id_number", "invalid_id_number", (0, "id_number"), wrong_check),
        ("parties.0.id_number", "invalid_id_number", (0, "id_number"), valid[:6] + "20991231" + valid[14:]),
        ("parties.1.id_number", "invalid_credit_code", (1, "id_number"), "91410800MA00000000"),
        ("parties.0.phone", "invalid_phone", (0, "phone"), "+1 (555) 010-9999"),
        ("parties.2.id_number", "invalid_id_number", (2, "id_number"), "110101190001011234"),
    ]
    for field, code, (index, name), value in cases:
        payload = case_payload()
        payload["parties"][index][name] = value
        reply = await court.call("POST", "/cases", json=payload)
        check_rejected(reply, field, field=field, value=value)
        assert (reply.error["field"], reply.error["code"]) == (field, code), reply.body
        assert value not in reply.text
        assert value.replace(" ", "") not in reply.text
    mediator = {"name": "新调解员", "id_type": "resident_id", "id_number": wrong_check}
    reply = await routes.actors.union1.call("POST", "/mediators", json=mediator)
    check_rejected(reply, "mediator", field="id_number", value=wrong_check)
    assert reply.error["code"] == "invalid_id_number"
    reply = await routes.actors.union1.call("POST", "/mediators", json={"name": "x", "id_number": valid})
    check_rejected(reply, "mediator without id_type", field="id_number", value=valid)
    assert reply.error["code"] == "id_type_required"


# --- paths, queries and headers ------------------------------------------------------------------------

_GARBAGE_IDS = [
    "x" * 2000,
    "a%00b",
    "%00",
    "%ED%A0%80",
    "%FF%FE",
    "..%2F..%2Fetc",
    "%E6%A1%88%E4%BB%B6",
    "%27%20OR%201%3D1%20--",
    "%E2%80%AEcas_0000",
    "cas_01ARZ3NDEKTSV4RRFFQ69G5FA",  # one character short
    "CAS_01ARZ3NDEKTSV4RRFFQ69G5FAV",
]


async def test_unknown_and_malformed_ids_in_every_path(routes: Routes) -> None:
    services = routes.actors.services
    before = await snapshot(services)
    tried = 0
    for operation in routes.operations:
        params = operation.params
        if not params:
            continue
        caller = await routes.caller(operation)
        body = routes.body(operation)
        known = routes.values(operation)
        variants: list[dict[str, str]] = [{name: no_such_id(name) for name in params}]
        variants += [{**known, params[-1]: no_such_id(params[-1])}]
        variants += [{**known, name: garbage} for name in params for garbage in _GARBAGE_IDS]
        for values in variants:
            path = API + operation.path(values)
            url = URL(path, encoded=True)
            context = (operation.operation_id, path[:120])
            if operation.multipart:
                reply = await caller.call(operation.method, url, data=upload_form())
            elif body is None:
                reply = await caller.call(operation.method, url)
            else:
                reply = await caller.call(operation.method, url, json=body)
            check_rejected(reply, context)
            # (A route without a valid body here may refuse the empty one before it looks anything up.)
            expected = (404, 405) if routes.known(operation) else (404, 405, 422)
            assert reply.status in expected, (context, reply.status, reply.text[:300])
            tried += 1
    assert tried > 200
    assert await snapshot(services) == before


def _bad_query_values(schema: dict[str, Any], schemas: Schemas) -> list[tuple[str, str]]:
    options = schemas.options(schema)
    types = {o.get("type") for o in options}
    formats = {o.get("format") for o in options}
    enum = any("enum" in o for o in options) or any(
        "enum" in schemas.resolve(o.get("items", {})) for o in options if o.get("type") == "array"
    )
    if enum:
        return [("unknown enum value", "__nope__"), ("empty", "")]
    if "date" in formats:
        return [
            ("month 13", "2026-13-01"),
            ("year 0", "0000-01-01"),
            ("year 1", "0001-01-01"),
            ("year 9999", "9999-12-31"),
            ("datetime", "2026-03-01T10:00:00"),
            ("text", "today"),
        ]
    if "integer" in types:
        minimum = min((o["minimum"] for o in options if "minimum" in o), default=1)
        return [
            ("text", "ten"),
            ("negative", "-1"),
            *([("zero", "0")] if minimum > 0 else []),
            ("fraction", "1.5"),
            ("huge", "9" * 30),
            ("5000 digits", "9" * 5000),
            ("empty", ""),
        ]
    if "boolean" in types:
        return [("text", "maybe"), ("two", "2")]
    return [("5000 characters", "x" * 5000), ("NUL", "a%00b")]


async def test_bad_query_parameters_on_every_route(routes: Routes) -> None:
    services = routes.actors.services
    before = await snapshot(services)
    for operation in routes.operations:
        caller = await routes.caller(operation)
        path = API + operation.path(routes.values(operation))
        body = routes.body(operation)
        queries: list[tuple[str, str]] = [("unknown parameter", "bogus=1"), ("unknown empty", "x")]
        for parameter in operation.spec.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for label, value in _bad_query_values(parameter["schema"], routes.schemas):
                queries.append((f"{parameter['name']}: {label}", f"{parameter['name']}={value}"))
        # Not refused, but harmless: invalid UTF-8 arrives as U+FFFD; a repeated scalar takes its first value.
        for query in ("cursor=%ED%A0%80%FF", "limit=1&limit=x", "bogus=%ED%A0"):
            reply = await caller.call(operation.method, URL(path + "?" + query, encoded=True))
            check(reply, (operation.operation_id, query))
        for label, query in queries:
            url = URL(path + "?" + query, encoded=True)
            context = (operation.operation_id, label)
            if operation.multipart:
                reply = await caller.call(operation.method, url, data=upload_form())
            elif body is None:
                reply = await caller.call(operation.method, url)
            else:
                reply = await caller.call(operation.method, url, json=body)
            check_rejected(reply, context)
            assert reply.status == 422, (context, reply.status, reply.text[:300])
            name = query.split("=", 1)[0]
            # Named as the field, or among the fields when a required parameter is missing as well.
            fields = {reply.error.get("field")} | {e.get("field") for e in reply.error.get("errors", [])}
            assert fields & {name, f"{name}.0"}, (context, reply.body)
    assert await snapshot(services) == before


async def test_methods_a_path_does_not_have(routes: Routes) -> None:
    for template, item in routes.doc["paths"].items():
        path = _PARAM.sub(lambda m: routes.ids.get(m.group(1)) or no_such_id(m.group(1)), template)
        allowed = {method.upper() for method in item}
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - allowed):
            reply = await routes.actors.court_a.call(method, URL(path, encoded=True), json={})
            check_rejected(reply, (method, template))
            assert (reply.status, reply.error["code"]) == (405, "method_not_allowed"), (method, template)
            assert set(reply.headers["Allow"].split(",")) >= allowed


async def test_idempotency_keys_are_checked(routes: Routes) -> None:
    services = routes.actors.services
    before = await snapshot(services)
    for operation in routes.operations:
        if not any(p["name"] == "Idempotency-Key" for p in operation.spec.get("parameters", [])):
            continue
        if not routes.known(operation):
            continue  # the key is checked after the body: this needs a valid one
        caller = await routes.caller(operation)
        body = routes.body(operation)
        for key in ("", "with space", "k" * 201, "tab\there"):
            reply = await caller.call(
                operation.method,
                operation.path(routes.values(operation)),
                json=body,
                headers={"Idempotency-Key": key},
            )
            check_rejected(reply, (operation.operation_id, key))
            assert (reply.status, reply.error["field"]) == (422, "Idempotency-Key"), reply.body
    assert await snapshot(services) == before


# --- odd but valid text --------------------------------------------------------------------------------


async def test_unusual_unicode_is_stored_as_sent(actors: Actors) -> None:
    odd = "张\u200d三\u202e反向\u202c\u0301 👷\u200b\ufeff\U0001f9d1\u200d\U0001f527 \uffff 乙"
    payload = case_payload(claims=f"拖欠工资{odd}", summary="\u202e" + odd + "\u202c")
    payload["parties"][0]["name"] = odd
    payload["parties"][0]["address"] = "河南省焦作市" + odd
    case = await actors.court_a.post("/cases", 201, json=payload)
    got = await actors.court_a.get(f"/cases/{case['id']}")
    assert got["claims"] == payload["claims"]
    assert got["summary"] == payload["summary"]
    worker = next(p for p in got["parties"] if p["party_type"] == "worker")
    assert worker["name"] == odd
    assert worker["address"] == payload["parties"][0]["address"]
    found = await actors.court_a.get("/cases", params={"case_number": payload["case_number"]})
    assert [c["id"] for c in found["items"]] == [case["id"]]
    # Full-width digits and spaces in an ID number are normalised, not refused.
    wide = case_payload()
    number = wide["parties"][0]["id_number"]
    wide["parties"][0]["id_number"] = " ".join(chr(ord(c) + 0xFEE0) for c in number)
    created = await actors.court_a.post("/cases", 201, json=wide)
    assert next(p for p in created["parties"] if p["party_type"] == "worker")["id_number"] == number


# --- uploads -------------------------------------------------------------------------------------------


def _multipart(
    parts: list[tuple[str, str, bytes]], boundary: str = "b0undary"
) -> tuple[bytes, dict[str, str]]:
    """A hand-written multipart body: (headers, …) per part, to produce what clients should not send."""
    out = b""
    for disposition, content_type, content in parts:
        out += f"--{boundary}\r\n".encode()
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if content_type:
            out += f"Content-Type: {content_type}\r\n".encode()
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_malformed_uploads(routes: Routes, actors: Actors) -> None:
    services = actors.services
    court = actors.court_a
    path = f"/cases/{routes.ids['case_id']}/materials"
    limit = services.settings.max_upload_bytes
    incoming = services.files.root / "incoming"
    before = await snapshot(services)
    file_part = 'form-data; name="file"; filename="a.pdf"'

    async def streamed(size: int) -> AsyncIterator[bytes]:
        yield b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        yield b"Content-Type: application/pdf\r\n\r\n" + PDF
        sent = len(PDF)
        while sent < size:
            yield b"0" * 65536
            sent += 65536
        yield b"\r\n--b0undary--\r\n"

    attempts: list[tuple[str, int, str | None, dict[str, Any]]] = [
        ("JSON instead", 415, None, {"json": {"file": "x"}}),
        ("no boundary", 422, None, {"data": b"--x--", "headers": {"Content-Type": "multipart/form-data"}}),
        (
            "garbage",
            422,
            None,
            {"data": b"\x00\x01garbage", "headers": {"Content-Type": "multipart/form-data; boundary=q"}},
        ),
        (
            "truncated",
            0,
            None,
            {
                "data": b'--q\r\nContent-Disposition: form-data; name="file"',
                "headers": {"Content-Type": "multipart/form-data; boundary=q"},
            },
        ),
        (
            "truncated file",
            422,
            "malformed_multipart",
            {
                "data": b'--q\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
                b"Content-Type: application/pdf\r\n\r\n" + PDF,
                "headers": {"Content-Type": "multipart/form-data; boundary=q"},
            },
        ),
        (
            "bad part header",
            422,
            "malformed_multipart",
            {
                "data": b'--q\r\nContent-Disposition: form-data; name="file"; '
                b'filename="a\x01.pdf"\r\nContent-Type: application/pdf\r\n\r\n' + PDF + b"\r\n--q--\r\n",
                "headers": {"Content-Type": "multipart/form-data; boundary=q"},
            },
        ),
        (
            "unknown transfer encoding",
            422,
            None,
            {
                "data": b'--q\r\nContent-Disposition: form-data; name="description"\r\n'
                b"Content-Transfer-Encoding: x-rot13\r\n\r\nabc\r\n--q--\r\n",
                "headers": {"Content-Type": "multipart/form-data; boundary=q"},
            },
        ),
        (
            "wrong type",
            415,
            "unsupported_media_type",
            {"data": upload_form("a.exe", b"MZ\x90\x00", "application/x-msdownload")},
        ),
        (
            "no type",
            415,
            "unsupported_media_type",
            {"data": _multipart([(file_part, "", PDF)])[0], "headers": _multipart([])[1]},
        ),
        (
            "PNG that is a PDF",
            415,
            "unsupported_media_type",
            {"data": upload_form("a.png", PDF, "image/png")},
        ),
        (
            "PDF that is text",
            415,
            "unsupported_media_type",
            {"data": upload_form("a.pdf", b"hello", "application/pdf")},
        ),
        (
            "text with NUL",
            415,
            "unsupported_media_type",
            {"data": upload_form("a.txt", b"a\x00b", "text/plain")},
        ),
        ("empty file", 422, "empty_file", {"data": upload_form("a.pdf", b"", "application/pdf")}),
        (
            "too large",
            413,
            "payload_too_large",
            {"data": upload_form("a.pdf", PDF + b"0" * limit, "application/pdf")},
        ),
        ("far too large", 413, "payload_too_large", {"data": upload_form("a.pdf", PDF + b"0" * 2 * limit)}),
        (
            "streamed, too large",
            413,
            "payload_too_large",
            {"data": streamed(limit + 1), "headers": _multipart([])[1]},
        ),
    ]
    only_description = _multipart([('form-data; name="description"', "", "说明".encode())])
    attempts.append(
        ("no file part", 422, "required", {"data": only_description[0], "headers": only_description[1]})
    )
    unknown = _multipart([('form-data; name="other"', "", b"x"), (file_part, "application/pdf", PDF)])
    attempts.append(("unknown field", 422, "unknown_field", {"data": unknown[0], "headers": unknown[1]}))
    after = _multipart([(file_part, "application/pdf", PDF), ('form-data; name="description"', "", b"x")])
    attempts.append(
        ("a part after the file", 422, "malformed_multipart", {"data": after[0], "headers": after[1]})
    )
    long_description = _multipart(
        [('form-data; name="description"', "", b"x" * 600), (file_part, "application/pdf", PDF)]
    )
    attempts.append(
        ("long description", 422, None, {"data": long_description[0], "headers": long_description[1]})
    )
    huge_description = _multipart(
        [('form-data; name="description"', "", b"x" * (limit + 100_000)), (file_part, "application/pdf", PDF)]
    )
    attempts.append(
        (
            "huge description",
            413,
            None,
            {"data": io.BytesIO(huge_description[0]), "headers": huge_description[1]},
        )
    )
    nested = _multipart([('form-data; name="file"', "multipart/mixed; boundary=inner", b"--inner--\r\n")])
    attempts.append(("nested", 422, "malformed_multipart", {"data": nested[0], "headers": nested[1]}))

    for label, status, code, kwargs in attempts:
        reply = await court.call("POST", path, **kwargs)
        check_rejected(reply, label)
        assert reply.status == status or not status, (label, reply.status, reply.text[:300])
        if code is not None:
            assert reply.error["code"] == code, (label, reply.body)
    assert await snapshot(services) == before
    assert not incoming.exists() or not any(incoming.iterdir()), "a refused upload left a file behind"

    # A file name is cleaned, not refused.
    odd_name = _multipart(
        [('form-data; name="file"; filename="../../etc/pass:wd\u202e.pdf"', "application/pdf", PDF)]
    )
    stored = await court.post(path, 201, data=odd_name[0], headers=odd_name[1])
    assert stored["filename"] == "_.._etc_pass_wd\u202e.pdf"


async def test_malformed_logins(actors: Actors) -> None:
    """The console's session route is not in the document, but takes a body too."""
    client = actors.client
    js = {"Content-Type": "application/json"}
    attempts: list[tuple[dict[str, str], bytes]] = [
        (js, b'{"username": '),
        (js, b"[]"),
        (js, b""),
        ({"Content-Type": "text/plain"}, b"{}"),
        (js, encode({"username": "a\x00b", "password": "x" * 12})),
        (js, encode({"username": "a\ud800b", "password": "x" * 12})),
        (js, encode({"username": "mediator1", "password": "a\x00b" * 4})),
        (js, encode({"username": "mediator1", "password": "a\udfffb" * 4})),
        (js, encode({"username": "x" * 100_000, "password": "y"})),
        (js, encode({"username": ["mediator1"], "password": 1})),
        (js, b'{"username": "mediator1", "password": ' + b"9" * 5000 + b"}"),
    ]
    for headers, raw in attempts:
        response = await client.post(API + "/session", data=raw, headers=headers)
        body = await response.read()
        reply = Reply(response.status, response.headers, json.loads(body) if body else None, body.decode())
        check_rejected(reply, raw[:60])
        assert "tj_session" not in response.cookies
