"""Routes: verifying a sealed agreement (anyone, rate-limited per address) and downloading it (the court and
the mediator of the case).

``POST /verify`` takes an uploaded PDF, ``GET /verify/{code}`` a verification code; both answer
:class:`agreements.sealing_schemas.VerificationOut`, names masked unless the caller is the court or the
mediator of the case. Each address may make ``TIAOJIE_VERIFY_PER_MINUTE`` verification requests a minute
(per process), so that codes cannot be guessed by trying.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from aiohttp import web

from agreements import sealing_service, verify_service
from agreements.access import AgreementAction, ensure
from agreements.sealing_schemas import VerificationOut, VerifyQuery
from agreements.verification import FileFindings
from cases.access import load_case
from signaling.ratelimit import TokenBucket
from tiaojie.errors import NotFound, PayloadTooLarge, RateLimited
from web.auth import client_ip
from web.router import ApiCall, ApiRouter
from web.uploads import file_part

__all__ = ["VERIFY_LIMITS", "VerifyLimits", "register"]


class VerifyLimits:
    """One token bucket per caller (address, or the authenticated principal), the least recently used
    forgotten beyond ``max_callers``."""

    def __init__(self, per_minute: int, max_callers: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, caller: str, now: float | None = None) -> None:
        bucket = self._buckets.pop(caller, None) or TokenBucket(
            rate=self.per_minute / 60.0, burst=float(self.per_minute)
        )
        self._buckets[caller] = bucket
        while len(self._buckets) > self.max_callers:
            self._buckets.popitem(last=False)
        if not bucket.allow(time.monotonic() if now is None else now):
            raise RateLimited(
                "too many verification requests; try again in a minute", per_minute=self.per_minute
            )


VERIFY_LIMITS = web.AppKey("verify_limits", VerifyLimits)


def _limit(call: ApiCall) -> None:
    who = call.caller.audit_key if call.caller is not None else f"ip:{client_ip(call.request)}"
    call.request.app[VERIFY_LIMITS].take(who)


async def _read_upload(call: ApiCall) -> bytes:
    limit = call.services.settings.max_upload_bytes
    _, _, chunks = await file_part(call.request, call.services.settings.max_upload_bytes)
    data = bytearray()
    async for chunk in chunks:
        data.extend(chunk)
        if len(data) > limit:
            raise PayloadTooLarge(f"files are limited to {limit} bytes", limit=limit)
    return bytes(data)


async def _analysed_upload(call: ApiCall) -> FileFindings:
    """Before any unit of work opens: the rate limit, the code's shape, the upload (read as slowly as the
    client sends it) and what the file says about itself (pyHanko, in a thread). Only the lookups by hash or
    code need the database."""
    _limit(call)
    query = call.query_as(VerifyQuery)
    if query.code is not None:
        verify_service.parse_code(query.code)  # a malformed code is refused before the upload is read
    return await verify_service.analyse_file(call.services.sealing, await _read_upload(call))


def register(api: ApiRouter) -> None:
    tags = ["agreements"]

    @api.route(
        "POST",
        "/verify",
        summary="Verify a sealed agreement (upload)",
        tags=tags,
        query=VerifyQuery,
        response=VerificationOut,
        multipart=True,
        public=True,
        errors=(413, 415, 422, 429),
        prepare=_analysed_upload,
        writes=False,
    )
    async def verify_upload(call: ApiCall) -> VerificationOut:
        """multipart/form-data with one `file` part: a PDF. No authentication needed. `result` is `intact`
        only when the file is byte for byte a document sealed here and its PAdES seal validates (pyHanko,
        against the service's trust root, covering the whole file). With `?code=`, `code_matches` says
        whether the file is the document of that code. Names are masked unless the caller is the court or
        the mediator of the case. Errors: 415 `unsupported_media_type` (not a PDF), 422 `truncated_pdf`,
        `empty_file`, `malformed_code`, 413 `payload_too_large`, 429 `rate_limited`."""
        return await verify_service.verify_file(
            call.session, call.prepared, call.caller, expected_code=call.query_as(VerifyQuery).code
        )

    @api.route(
        "GET",
        "/verify/{code}",
        summary="Look up a sealed agreement by its verification code",
        tags=tags,
        response=VerificationOut,
        public=True,
        errors=(404, 422, 429),
    )
    async def verify_by_code(call: ApiCall) -> VerificationOut:
        """The sealed document of a verification code (`XXXX-XXXX-XXXX-XXXX`; case, spaces and hyphens do
        not matter): version, times, hashes and signers (names masked unless the caller is the court or
        the mediator of the case). `result` is `on_record`; to check a file, compare its SHA-256 with
        `sealed.sealed_sha256` or upload it. Errors: 422 `malformed_code`, 404 `unknown_code`, 429
        `rate_limited`."""
        _limit(call)
        return await verify_service.verify_code(call.session, call.path["code"], call.caller)

    @api.route(
        "GET",
        "/cases/{case_id}/agreement/sealed",
        summary="Download the sealed agreement",
        tags=tags,
        raw_response="application/pdf",
        errors=(403, 404),
    )
    async def download_sealed_agreement(call: ApiCall) -> web.StreamResponse:
        """The case's sealed agreement (that of its latest sealed version): the agreement, the signature
        page and the completion certificate under the service's PAdES seal. Header `X-Content-SHA256` is the
        file's hash. The court and the mediator of the case (the parties through their own links); 404
        `not_sealed` before the agreement took effect."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        ensure(call.principal, AgreementAction.READ, case)
        row = await sealing_service.for_case(call.session, case.id)
        if row is None:
            raise NotFound(
                "the agreement has not been sealed", code="not_sealed", resource="sealed_agreement"
            )
        return web.FileResponse(
            call.services.files.path(row.pdf_key),
            headers={
                "Content-Type": "application/pdf",
                "Content-Disposition": (
                    f'attachment; filename="agreement-{case.id}-v{row.version_number}-sealed.pdf"'
                ),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
                "X-Content-SHA256": row.sealed_sha256,
            },
        )
