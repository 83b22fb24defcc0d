"""Text messages an API call sends after its commit (join links, judicial-confirmation links)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from rooms.notify import AfterCommit, Outcomes
from web.router import ApiCall

__all__ = ["sms_after_commit"]

log = logging.getLogger(__name__)


def sms_after_commit(
    call: ApiCall, record: Callable[[AsyncSession, Outcomes], Awaitable[None]] | None = None
) -> AfterCommit:
    """A notifier for what the call sends: the messages go out once its change is stored (a slow SMS gateway
    then holds no transaction nor SQLite's write lock, and a refusing one undoes nothing), all at once, each
    on its own; one the gateway refuses is logged, and ``record`` (if given) notes every outcome in a
    unit of its own."""
    sms = AfterCommit(call.services.notifier)

    async def deliver() -> None:
        outcomes = await sms.deliver_each()
        if not outcomes or record is None:
            return
        try:
            async with call.services.db.session() as unit:
                await record(unit, outcomes)
        except Exception:  # the change is stored and the messages are out: the answer stays a success
            log.exception("the outcome of %d message(s) was not recorded", len(outcomes))

    call.after_commit.append(deliver)
    return sms
