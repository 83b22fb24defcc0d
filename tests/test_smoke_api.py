from __future__ import annotations

from tests.conftest import Api
from tests.factories import case_payload


async def test_create_and_read_case(api: Api) -> None:
    created = await api.as_("court_a").post("/cases", json=case_payload(), expect=201)
    assert created["state"] == "created"
    got = await api.as_("court_a").get(f"/cases/{created['id']}", expect=200)
    assert got["id"] == created["id"]
