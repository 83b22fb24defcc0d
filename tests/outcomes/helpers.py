"""Set-ups of the outcome tests: cases that ended, with their signed agreement uploaded."""

from __future__ import annotations

from typing import Any

from tests.apihelp import Actors, Caller, mediating_case, upload_form

__all__ = ["REPORT", "agreed_case", "events", "failed_report"]

REPORT = {
    "course": "两次视频调解，双方就经济补偿金额分歧较大。",
    "failure_reason": "用人单位只同意支付一半。",
    "cost_conduct": "用人单位两次无故缺席，增加了劳动者的交通费用。",
    "other_matters": "劳动者已申请财产保全。",
}


def failed_report(reason: str = "positions_too_far") -> dict[str, Any]:
    return {"result": "terminated", "reason": reason, "report": REPORT}


async def agreed_case(actors: Actors, **overrides: Any) -> tuple[dict[str, Any], Caller, dict[str, Any]]:
    """A case under mediation by mediator1 whose signed agreement is uploaded (not yet recorded)."""
    case = await mediating_case(actors, **overrides)
    mediator = await actors.user("mediator1")
    material = await mediator.post(
        f"/cases/{case['id']}/materials",
        201,
        data=upload_form("调解协议.pdf", description="已签署的调解协议"),
    )
    return case, mediator, material


async def events(actors: Actors, case_id: str) -> list[dict[str, Any]]:
    """The court's webhook events of one case, in order."""
    page = await actors.court_a.get("/webhooks/events?limit=500")
    return [e for e in page["items"] if e["case_id"] == case_id]
