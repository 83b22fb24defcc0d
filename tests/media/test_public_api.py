"""Each media module exports exactly its public names."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "media.rtp",
    "media.rtcp",
    "media.codecs",
    "media.rewrite",
    "media.keyframes",
    "media.retransmit",
    "media.bandwidth",
    "media.forwarder",
]


@pytest.mark.parametrize("name", MODULES)
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
