"""The lock files (make lock) agree with pyproject.toml: every direct dependency is pinned there at a version
its range allows. A dependency added or narrowed without `make lock` fails here, not on a fresh machine."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return {canonicalize_name(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", text, re.M)}


def direct(*extras: str) -> list[Requirement]:
    lines = list(PROJECT["dependencies"])
    for extra in extras:
        lines += PROJECT["optional-dependencies"][extra]
    return [Requirement(line.split("#")[0].strip()) for line in lines]


@pytest.mark.parametrize(("lock", "extras"), [("requirements.lock", ("s3", "sentry")),
                                              ("requirements-dev.lock", ("s3", "sentry", "dev", "embedded"))])
def test_every_direct_dependency_is_pinned_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pinned = pins(lock)
    for req in direct(*extras):
        if req.marker is not None and not req.marker.evaluate({"python_version": "3.11", "platform_system": "Linux",
                                                               "python_full_version": "3.11.0", "sys_platform": "linux"}):
            continue
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not in {lock}: run `make lock`"
        assert req.specifier.contains(pinned[name], prereleases=True), \
            f"{lock} pins {req.name}=={pinned[name]}, outside {req.specifier}: run `make lock`"


def test_the_locks_carry_hashes() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        assert text.count("==") <= text.count("--hash=sha256:"), lock
