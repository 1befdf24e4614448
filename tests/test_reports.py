"""The committed reports: few enough to read, and every link in them leads somewhere."""

from __future__ import annotations

import posixpath
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_FILES = 150
MAX_BYTES = 5 * 1024 * 1024
# [text](target), the target up to a closing parenthesis or a space (a title).
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s[^)]*)?\)")


def tracked(under: str = "") -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: what is committed cannot be told")
    out = subprocess.run(
        ["git", "ls-files", "-z", "--", under] if under else ["git", "ls-files", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [p for p in out.decode().split("\0") if p]


def broken_links(markdown: str, base: str, files: set[str]) -> list[str]:
    """Relative links in ``markdown`` (a file in folder ``base``) to no file in ``files``."""
    broken = []
    for target in LINK.findall(markdown):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # another site, or an anchor in the same file
        resolved = posixpath.normpath(posixpath.join(base, target.split("#")[0]))
        is_folder = any(f.startswith(resolved + "/") for f in files)
        if resolved not in files and not is_folder:
            broken.append(target)
    return broken


def test_reports_stay_small_enough_to_read() -> None:
    files = tracked("reports")
    size = sum((ROOT / f).stat().st_size for f in files)
    assert len(files) < MAX_FILES, f"{len(files)} files committed under reports/"
    assert size < MAX_BYTES, f"{size} bytes committed under reports/"


def test_every_link_in_the_committed_markdown_leads_to_a_committed_file() -> None:
    files = set(tracked())
    found = {}
    for md in sorted(f for f in files if f.endswith(".md")):
        broken = broken_links((ROOT / md).read_text(encoding="utf-8"), posixpath.dirname(md), files)
        if broken:
            found[md] = broken
    assert found == {}


def test_the_link_check_sees_a_broken_link() -> None:
    files = {"reports/matrix/matrix.md", "reports/examples/a/report.md"}
    text = "[ok](../examples/a/report.md) [gone](20261123-run/report.md) [web](https://x.org)"
    assert broken_links(text, "reports/matrix", files) == ["20261123-run/report.md"]
