"""The OpenAPI 3.1 document, generated from the routes' own pydantic types."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from tiaojie import __version__
from web.router import ApiRouter, Endpoint

__all__ = ["build_openapi"]

_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)\}")

_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable error code."},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "The offending field, dotted path."},
                "current_state": {
                    "type": "string",
                    "description": "On illegal_transition: the current state.",
                },
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
            "additionalProperties": True,
        }
    },
}

_ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing, malformed or revoked API key",
    403: "Authenticated, but not allowed to do this",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state (illegal_transition names current_state)",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed (field and errors name what)",
    429: "Too many requests (header Retry-After: seconds to wait)",
}


class _Generator(GenerateJsonSchema):
    pass


@functools.cache
def _generated(annotation: Any, mode: JsonSchemaMode) -> str:
    """A type's JSON schema, generated once per process: generation takes a good part of a second for the
    whole API, and every application (each test builds one) would otherwise pay it again."""
    schema = TypeAdapter(annotation).json_schema(ref_template=_REF, mode=mode, schema_generator=_Generator)
    return json.dumps(schema)


def _schema(annotation: Any, mode: JsonSchemaMode, defs: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(_generated(annotation, mode))  # a fresh copy for each document
    for name, definition in schema.pop("$defs", {}).items():
        defs.setdefault(name, definition)
    return schema


def _query_parameters(endpoint: Endpoint, defs: dict[str, Any]) -> list[dict[str, Any]]:
    if endpoint.query is None:
        return []
    schema = _schema(endpoint.query, "validation", defs)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        if prop.get("type") == "array" or any(p.get("type") == "array" for p in prop.get("anyOf", [])):
            param.update(style="form", explode=True)
        params.append(param)
    return params


def _operation(endpoint: Endpoint, defs: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "tags": list(endpoint.tags),
        # a public route takes an API key (or a console session) but does not need one
        "security": [{}, {"bearerAuth": []}] if endpoint.public else [{"bearerAuth": []}],
    }
    if endpoint.description:
        op["description"] = endpoint.description
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(endpoint.path)
    ]
    params += _query_parameters(endpoint, defs)
    if endpoint.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "A retry with the same key and body returns the first response "
                "(header Idempotent-Replayed: true); the same key with another body is refused (422).",
                "schema": {"type": "string", "maxLength": 200},
            }
        )
    if params:
        op["parameters"] = params
    if endpoint.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(endpoint.body, "validation", defs)}},
        }
    elif endpoint.multipart:
        op["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "description": {"type": "string", "maxLength": 500},
                            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                        },
                    }
                }
            },
        }
    responses: dict[str, Any] = {}
    if endpoint.raw_response:
        responses["200"] = {
            "description": "The file",
            "content": {
                endpoint.raw_response: {
                    "schema": {"type": "string", "contentMediaType": endpoint.raw_response}
                }
            },
        }
    elif endpoint.response is not None:
        responses[str(endpoint.status)] = {
            "description": "OK" if endpoint.status < 300 else "Created",
            "content": {"application/json": {"schema": _schema(endpoint.response, "serialization", defs)}},
        }
        for media in endpoint.alternatives:
            responses[str(endpoint.status)]["content"][media] = {
                "schema": {"type": "string", "contentMediaType": media}
            }
    else:
        responses["204"] = {"description": "No content"}
    for status in sorted({401, 400, *endpoint.errors}):
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    op["responses"] = responses
    return op


def _path_params(path: str) -> list[str]:
    return _PATH_PARAM.findall(path)


_DESCRIPTION = (
    "Court–union online mediation of labor disputes (劳动争议在线诉调对接). "
    "Court and union systems authenticate with a bearer API key bound to one court or one "
    "organisation; every call sees only that scope."
)
_TAGS: list[dict[str, str]] = [
    {"name": "meta", "description": "The caller and the service"},
    {"name": "roster", "description": "Organisations, mediators and courts' rosters"},
    {"name": "cases", "description": "Mediation cases and their course"},
    {"name": "sessions", "description": "Video sessions and personal join links"},
    {"name": "recordings", "description": "Session recordings, their manifests and playback"},
    {"name": "outcomes", "description": "Outcomes, reports to the court, judicial confirmation"},
    {"name": "webhooks", "description": "Signed events to court systems, delivery log, catch-up"},
    {
        "name": "agreements",
        "description": "Mediation agreements: drafts, frozen versions, their PDF, the sealed agreement and "
        "its verification (public)",
    },
    {"name": "signing", "description": "Signing the agreement: rounds, signatures, seal, audit trail"},
    {"name": "statistics", "description": "Mediator evaluation: figures by quarter or date range"},
]


def build_openapi(
    router: ApiRouter,
    *,
    server_url: str | None = None,
    title: str = "tiaojie API",
    description: str = _DESCRIPTION,
    tags: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in router.endpoints:
        paths.setdefault(router.prefix + endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, defs
        )
    defs["Error"] = _ERROR_SCHEMA
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__, "description": description},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(defs.items())),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "tags": tags if tags is not None else _TAGS,
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
