"""The stylesheets parse as their authors meant: every block closed where it was opened.

A lost or doubled "}" (easily left by a merge) does not fail loudly in a browser: the rest of the file silently
moves into a media query (print, or one width) and the site breaks at other sizes."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = sorted((Path(__file__).resolve().parents[2] / "static" / "css").glob("*.css"))


def _unclosed(text: str) -> list[int]:
    """Line numbers of the blocks still open at the end, or of a stray "}" (comments and strings left out)."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r'"[^"\n]*"|\'[^\'\n]*\'', '""', text)
    opened: list[int] = []
    for number, line in enumerate(text.split("\n"), 1):
        for ch in line:
            if ch == "{":
                opened.append(number)
            elif ch == "}":
                if not opened:
                    return [number]
                opened.pop()
    return opened


def test_finds_an_unclosed_block() -> None:
    assert _unclosed("@media print {\n a { color: red; }\n") == [1]
    assert _unclosed("a { color: red; }\n}\n") == [2]
    assert _unclosed("/* { */ a::before { content: '{'; }") == []


@pytest.mark.parametrize("path", CSS, ids=lambda p: p.name)
def test_every_block_is_closed(path: Path) -> None:
    assert CSS and not _unclosed(path.read_text(encoding="utf-8")), f"{path.name}: unbalanced braces"
