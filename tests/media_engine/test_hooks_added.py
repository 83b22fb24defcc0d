"""What the engine added to ``media.aiortc_hooks`` (``set_stream_id``), and the engine modules' exports."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator

import aiortc.rtcpeerconnection
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender

from media.aiortc_hooks import AiortcIncompatibleError, check_compatible, rtc_configuration, set_stream_id


@pytest.fixture
async def pc() -> AsyncIterator[RTCPeerConnection]:
    peer = RTCPeerConnection(rtc_configuration())
    yield peer
    await peer.close()


@pytest.mark.timeout(20)
async def test_set_stream_id_names_the_msid_stream_of_one_sender(pc: RTCPeerConnection) -> None:
    first = pc.addTransceiver("video", "sendonly").sender
    pc.addTransceiver("audio", "sendonly")
    set_stream_id(first, "publisher-1")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    video, audio = sdp.split("m=video")[1].split("m=audio")
    assert "a=msid:publisher-1 " in video
    assert "a=msid:publisher-1 " not in audio  # the other sender keeps the connection's stream
    with pytest.raises(ValueError, match="token"):
        set_stream_id(first, "two words")
    with pytest.raises(ValueError, match="token"):
        set_stream_id(first, "")


def test_check_compatible_names_a_lost_msid_stream_id(monkeypatch: pytest.MonkeyPatch) -> None:
    def describe_without_stream_id(*args: object, **kwargs: object) -> None:
        pass

    monkeypatch.setattr(
        aiortc.rtcpeerconnection, "create_media_description_for_transceiver", describe_without_stream_id
    )
    lost = r"create_media_description_for_transceiver no longer refers to '_stream_id'"
    with pytest.raises(AiortcIncompatibleError, match=lost):
        check_compatible()


def test_check_compatible_names_a_sender_without_stream_id(monkeypatch: pytest.MonkeyPatch) -> None:
    def init_without_stream_id(self: RTCRtpSender, track_or_kind: object, transport: object) -> None:
        pass

    monkeypatch.setattr(RTCRtpSender, "__init__", init_without_stream_id)
    lost = r"RTCRtpSender.__init__ no longer refers to '_stream_id'"
    with pytest.raises(AiortcIncompatibleError, match=lost):
        check_compatible()


@pytest.mark.parametrize("name", ["media.engine", "media.forwarder"])
def test_all_lists_the_public_names_defined_in_the_module(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert all(hasattr(module, item) for item in exported)
    defined = {
        item
        for item, value in vars(module).items()
        if not item.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == name
    }
    assert defined <= exported
    assert len(module.__all__) == len(exported)
