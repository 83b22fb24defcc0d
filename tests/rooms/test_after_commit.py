"""AfterCommit: messages kept until the change is stored, then sent a few at a time, each on its own."""

from __future__ import annotations

import asyncio

import pytest

from rooms.notify import AfterCommit, Message, NotifyFailed


class Gateway:
    """Holds every message until released; refuses one number and fails on another (a buggy client)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.release = asyncio.Event()
        self.busy = asyncio.Event()  # set once CONCURRENCY messages are in flight at the same time
        self.accepted: list[str] = []

    async def send(self, message: Message) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.in_flight >= AfterCommit.CONCURRENCY:
            self.busy.set()
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        if message.phone == "refused":
            raise NotifyFailed("the SMS gateway answered 503", gateway_status=503)
        if message.phone == "broken":
            raise KeyError("a bug in the notifier")
        self.accepted.append(message.phone)


@pytest.mark.timeout(10)
async def test_nothing_goes_out_before_delivery_and_each_message_fails_on_its_own() -> None:
    gateway = Gateway()
    sms = AfterCommit(gateway)
    phones = [f"1390000{i:04d}" for i in range(8)] + ["refused", "broken"]
    for phone in phones:
        await sms.send(Message(phone, "链接", "join_link"))
    assert gateway.most_in_flight == 0  # kept, not sent

    delivery = asyncio.ensure_future(sms.deliver_each())
    await gateway.busy.wait()
    for _ in range(10):  # let any further send start, if the limit let it
        await asyncio.sleep(0)
    assert gateway.in_flight == AfterCommit.CONCURRENCY  # a few at a time, not all ten
    gateway.release.set()
    outcomes = await delivery

    assert gateway.most_in_flight == AfterCommit.CONCURRENCY
    assert [message.phone for message, _ in outcomes] == phones
    failures = {message.phone: failure for message, failure in outcomes if failure is not None}
    assert sorted(failures) == ["broken", "refused"]
    assert failures["refused"].details == {"gateway_status": 503}
    assert "KeyError" in failures["broken"].message
    assert sorted(gateway.accepted) == phones[:8]
    assert sms.pending == []


@pytest.mark.timeout(10)
async def test_deliver_raises_the_first_failure_after_sending_everything() -> None:
    gateway = Gateway()
    gateway.release.set()
    sms = AfterCommit(gateway)
    for phone in ("13900000001", "refused", "13900000002"):
        await sms.send(Message(phone, "验证码", "one_time_code"))
    with pytest.raises(NotifyFailed, match="503"):
        await sms.deliver()
    assert sorted(gateway.accepted) == ["13900000001", "13900000002"]
