"""The docker-compose backup service and its Dockerfile stage hold together (no test starts Docker)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_the_backup_service_writes_to_its_own_volume_with_the_backup_stage() -> None:
    service = COMPOSE["services"]["backup"]
    assert service["build"]["target"] == "backup"
    env = service["environment"]
    mounts = dict(v.split(":", 1) for v in service["volumes"])
    backup_dir = env["KROI_BACKUP_DIR"].split(":-", 1)[1].rstrip("}")
    assert mounts["backups"] == backup_dir and "backups" in COMPOSE["volumes"]
    assert mounts["media"] == env["KROI_MEDIA_DIR"]  # media.tar reads what the app stores
    assert "KROI_BACKUP_KEEP_DAYS" in env and "BACKUP_AT" in env
    for other in ("app", "migrate", "worker"):
        assert "backups" not in " ".join(COMPOSE["services"][other].get("volumes", []))


def test_the_backup_stage_has_the_servers_pg_dump_and_the_default_stage_is_the_app() -> None:
    stages = re.findall(r"^FROM \S+ AS (\w+)", DOCKERFILE, re.M)
    assert stages[-1] == "app"  # `build: .` (app, migrate, worker) gets the web app, not the backup loop
    server_major = re.search(r"image: postgres:(\d+)", (ROOT / "docker-compose.yml").read_text()).group(1)
    backup_stage = DOCKERFILE.split("AS backup", 1)[1].split("\nFROM ", 1)[0]
    assert f"ARG PG_MAJOR={server_major}" in backup_stage and "postgresql-client-${PG_MAJOR}" in backup_stage
    assert "deploy/backup-daily.sh" in backup_stage and (ROOT / "deploy" / "backup-daily.sh").is_file()
