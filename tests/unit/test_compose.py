"""docker-compose.yml is for real deployments and no test starts it: check that it holds together (every
dependency and volume exists) and that the two Redis roles are configured as the README says."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_every_dependency_and_named_volume_exists() -> None:
    for name, service in SERVICES.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in SERVICES, f"{name} depends on a missing service {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in COMPOSE["volumes"], f"{name} mounts an undeclared volume {source}"


def _redis_flags(service: str) -> dict[str, str]:
    command = SERVICES[service]["command"]
    return {command[i].lstrip("-"): command[i + 1] for i in range(1, len(command) - 1) if command[i].startswith("--")}


def test_state_redis_never_evicts_and_the_cache_redis_may() -> None:
    env = SERVICES["app"]["environment"]
    state = env["KROI_STATE_REDIS_URL"].split("//", 1)[1].split(":", 1)[0]
    cache = env["REDIS_URL"].split("//", 1)[1].split(":", 1)[0]
    assert state != cache
    assert _redis_flags(state)["maxmemory-policy"] == "noeviction"
    assert _redis_flags(state)["appendonly"] == "yes"
    assert _redis_flags(cache)["maxmemory-policy"] == "allkeys-lru"
    for name in ("app", "migrate", "worker"):
        assert SERVICES[name]["environment"]["KROI_STATE_REDIS_URL"] == env["KROI_STATE_REDIS_URL"]
        assert state in SERVICES[name]["depends_on"]
