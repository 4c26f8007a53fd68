"""Cheaper moto worlds with the same contents, for the runbook and tooling tests.

Every test still builds its own world inside its own `mock_aws()`; what changes is only
work that no test can observe (found with cProfile over tests/runbooks and tests/tooling):

- EC2's default AMI catalogue. Each EC2 backend moto creates (one per region a test
  touches, and once more per region when `mock_aws` resets at exit) built ~1,300 public
  Amazon images, each with its own snapshot and volume: ~0.2 s per backend, a third of
  the failover tests' time, and ~1,300 volumes that each `key_usage` report listed and
  filtered out.
  No test here uses a public image (the launch templates name one, which moto, like
  before, does not validate: `ENABLE_AMI_VALIDATION` is off).
- boto3's JSON models. `mock_aws` starts each world with a fresh default session, so
  every test parsed endpoints.json and each service's model again (~50 ms per client).
  All sessions now share one botocore `Loader`, as all clients of one session always
  do: it only reads the files shipped with botocore and caches what it parsed.
- KMS private keys. moto generates an RSA-2048 key pair for every key it creates
  (~60 ms), symmetric keys included, and uses it only for Sign, Verify and
  GetPublicKey. It is now generated on the first of those calls, from the same spec.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.loaders
import botocore.session
import pytest

_LOADERS: dict[str | None, Any] = {}


class _SearchPaths(list[str]):
    """boto3.Session() appends its data path to its loader's search paths: once is enough when shared."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def shared_loader(search_path_string: str | None = None) -> Any:
    """`botocore.loaders.create_loader`, one Loader per search path string for the whole process."""
    loader = _LOADERS.get(search_path_string)
    if loader is None:
        loader = botocore.loaders.create_loader(search_path_string)
        loader._search_paths = _SearchPaths(loader.search_paths)
        _LOADERS[search_path_string] = loader
    return loader


class LazyPrivateKey:
    """moto's private key of one KMS key (`AbstractPrivateKey`), generated when first used."""

    def __init__(self, key_spec: str, generate: Callable[[str], Any]) -> None:
        self._key_spec = key_spec
        self._generate = generate
        self._key: Any = None

    def _real(self) -> Any:
        if self._key is None:
            self._key = self._generate(self._key_spec)
        return self._key

    def sign(self, message: bytes, signing_algorithm: str) -> bytes:
        signature: bytes = self._real().sign(message, signing_algorithm)
        return signature

    def verify(self, message: bytes, signature: bytes, signing_algorithm: str) -> bool:
        return bool(self._real().verify(message, signature, signing_algorithm))

    def public_key(self) -> bytes:
        public: bytes = self._real().public_key()
        return public

    def __getattr__(self, name: str) -> Any:  # anything else moto may read (key_size, private_key)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._real(), name)


def apply(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the three speed-ups for one test (undone with its monkeypatch)."""
    import moto.kms.models
    import moto.kms.utils

    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setattr(botocore.session, "create_loader", shared_loader)
    generate = moto.kms.utils.generate_private_key
    monkeypatch.setattr(moto.kms.models, "generate_private_key", lambda spec: LazyPrivateKey(spec, generate))
