"""The emulator refuses a moto version its patches were not read from."""

from __future__ import annotations

import importlib.metadata

import pytest

from tooling import emulator


def test_other_moto_version_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "5.3.0")
    with pytest.raises(emulator.UnsupportedMotoVersionError, match=r"moto 5\.2\.5 internals, but moto 5\.3\.0"):
        emulator.check_moto_version()


def test_every_patch_is_named_and_explained() -> None:
    patches = emulator.patches()
    assert len({(p.service, p.name) for p in patches}) == len(patches)
    assert all(p.reason and len(p.reason) <= 120 for p in patches)
