"""One installed name: the library is ``duetime``, the testbed ``duetime.chaos``.

Nothing may install, or import, the top-level names ``scheduler`` or ``chaos``:
``scheduler`` is another package on PyPI, and a module imported under two names
runs twice.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("scheduler", "chaos", "tests", "benchmarks", "scenarios")
FOREIGN = {"scheduler", "chaos"}


def test_no_source_imports_the_folder_names() -> None:
    found = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if "scheduler/chaos" in path.as_posix():
                continue  # the same files as chaos/, through the link
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                found += [
                    f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in FOREIGN
                ]
    assert found == []


def test_importing_every_module_loads_each_once_under_duetime(tmp_path: Path) -> None:
    code = (
        "import pkgutil, sys, duetime\n"
        "for m in pkgutil.walk_packages(duetime.__path__, 'duetime.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        __import__(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('scheduler', 'chaos'))\n"
        "files = [getattr(m, '__file__', None) for n, m in sys.modules.items()"
        " if n.startswith('duetime')]\n"
        "files = [f for f in files if f]\n"
        "assert not bad, bad\n"
        "assert len(files) == len(set(files)), 'a file was imported under two names'\n"
        "print(len(files))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 100


def test_the_wheel_holds_duetime_alone(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("duetime-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {
        "duetime",
        wheel.name.split("-py")[0] + ".dist-info",
    }
    for needed in (
        "duetime/py.typed",
        "duetime/lua/claim.lua",
        "duetime/lua/includes/fence.lua",
        "duetime/lua/heartbeat.lua",
        "duetime/dashboard/templates/index.html",
        "duetime/dashboard/templates/content.html",
        "duetime/dashboard/static/dashboard.js",
        "duetime/chaos/runner.py",
        "duetime/chaos/nemesis/clock_shift.c",
        # the bundled scenarios, which the pytest plugin finds by name
        *(f"duetime/chaos/scenarios/{p.name}" for p in (ROOT / "scenarios").glob("*.py")),
        "duetime/chaos/pytest_plugin.py",
    ):
        assert needed in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "duetime = duetime.cli:main" in text
    assert "duetime-chaos = duetime.chaos.entry:main" in text
    assert "[pytest11]\nduetime.chaos.pytest_plugin = duetime.chaos.pytest_plugin" in text


def test_the_testbed_without_its_extras_says_what_to_install(tmp_path: Path) -> None:
    # sys.modules["rich"] = None makes "import rich" fail as if rich were not installed.
    code = (
        "import sys; sys.modules['rich'] = None\n"
        "from duetime.chaos.entry import main\n"
        "raise SystemExit(main(['list']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "duetime.chaos needs the testbed's extras (rich is missing): pip install 'duetime[chaos]'"
    )
    assert "Traceback" not in out.stderr
