"""The README's settings table and the code agree: every variable documented there is read by the code, and
every setting the code has is documented there."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kroi.settings import Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CODE = "\n".join(p.read_text() for p in sorted((ROOT / "kroi").rglob("*.py")))
# Variables the programs around the app read rather than Settings (the shell of the Docker command, uvicorn).
OUTSIDE_SETTINGS = {"PORT": "cli.py reads it for kroi serve's default port"}


def documented() -> set[str]:
    """The variable names in the first column of the README's configuration table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def env_names() -> dict[str, str]:
    """Environment variable -> Settings field."""
    out = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        out[str(choices[0]) if choices else f"KROI_{name.upper()}"] = name
    return out


def read_by_code(field: str) -> bool:
    """The field is used somewhere (settings.x, self.x, k.settings.x, …), not only declared."""
    return re.search(rf"\.{re.escape(field)}\b", CODE) is not None


def test_the_table_is_found() -> None:
    assert {"DATABASE_URL", "KROI_SECRET_KEY", "KROI_LOG_LEVEL"} <= documented()


def test_every_documented_variable_is_read() -> None:
    fields = env_names()
    unread = []
    for name in sorted(documented()):
        if name in fields:
            if not read_by_code(fields[name]):
                unread.append(f"{name} (Settings.{fields[name]} is never used)")
        elif f'"{name}"' not in CODE:
            unread.append(f"{name} (neither a Settings field nor read from os.environ)")
    assert not unread, unread


def test_every_setting_is_documented() -> None:
    missing = sorted(set(env_names()) - documented())
    assert not missing, f"add these to the README's configuration table: {missing}"


def test_variables_read_from_the_environment_directly_are_documented() -> None:
    direct = set(re.findall(r"os\.environ(?:\.get)?[\[(]\"((?:KROI_)[A-Z0-9_]+)\"", CODE))
    direct = {name for name in direct if not name.startswith("KROI_TEST_")}  # the test harness's, see "Two commands"
    assert direct - documented() == set(), direct - documented()
    assert set(OUTSIDE_SETTINGS) <= documented()
