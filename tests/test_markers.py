"""The suite's own markers: `-m "not virtuoso"` (the README's fast local loop) leaves out every Virtuoso test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def collected(*args: str) -> list[str]:
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return [line for line in out.splitlines() if "::" in line]


@pytest.mark.slow
def test_not_virtuoso_keeps_the_embedded_half_and_drops_every_virtuoso_test():
    files = ["tests/test_store.py", "tests/test_cli_remote.py", "tests/test_trustworthy_loading.py"]
    every, fast = collected(*files), collected("-m", "not virtuoso", *files)
    assert [t for t in fast if "virtuoso" in t or "remote" in t] == []
    assert {t for t in every if "[embedded]" in t} <= set(fast)
    assert len(fast) < len(every)
