"""Every example of the README runs as written.

The README's fenced ``python`` blocks are executed, then every ``cztgeo ...`` command of its
shell blocks and of the first column of its command table, in README order, in one empty
folder (the Python example writes ``sites.csv``, which the commands use), offline (sockets are
blocked) and with the shared data folder as ``$CZTGEO_DATA_DIR``. Commands run in-process
through ``cztgeo.cli.main(argv)``, the function the console script calls, so the code under
test is this tree's.

An example the README marks "needs the internet" is skipped with that reason. Shell lines that
are not cztgeo commands (installing, running the tests, shell logic around an exit code) must
be listed in ``NOT_EXAMPLES`` with the reason they are not run here.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
INTERNET = "needs the internet"
#: A command that runs until stopped (a server): tests/test_service.py drives it.
SERVER = "runs until stopped"

# shell lines of the README that are not examples to run here, and why
NOT_EXAMPLES = {
    "pip install -e '.[dev]'": "installs cztgeo (the test runs the tree it is in)",
    "python -m pytest -q": "runs this test suite",
    'case $? in 0) echo "clean" ;; 1) echo "encroaches: see report/report.md" ;; *) exit 2 ;; esac': (
        "shell logic around the exit code of the line before"
    ),
}
# exit codes the README documents for its examples (0 otherwise)
EXIT_CODES = {
    "validate": 1,  # "on the default skeleton two road facts fail: exit 1"
    "encroachment": 1,  # "site 1 of sites.csv is in the green heart: exit 1"
}
OUTPUT_OPTIONS = ("-o", "--output", "--out", "--map")


@dataclass(frozen=True)
class Command:
    text: str  # the command as written
    context: str  # the README line it comes from


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    return [
        (m.group(1), m.group(2))
        for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    ]


def python_examples() -> list[str]:
    return [code for lang, code in _fenced_blocks(README.read_text(encoding="utf-8")) if lang == "python"]  # fmt: skip


def shell_segments() -> list[tuple[str, str]]:
    """(segment, line) for each command of the shell blocks, lines split at && and ||."""
    out = []
    for lang, code in _fenced_blocks(README.read_text(encoding="utf-8")):
        if lang not in ("bash", "sh", "shell", "console"):
            continue
        for line in code.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            out += [(seg.strip(), line) for seg in re.split(r"&&|\|\|", line)]
    return out


def command_examples() -> list[Command]:
    """The cztgeo commands of the shell blocks and of the command table, in README order."""
    text = README.read_text(encoding="utf-8")
    found: list[tuple[int, Command]] = []
    for seg, line in shell_segments():
        if seg.startswith("cztgeo "):
            found.append((text.index(line), Command(seg, line)))
    for m in re.finditer(r"^\| `(cztgeo [^`]*)` \|.*$", text, re.MULTILINE):
        found.append((m.start(), Command(m.group(1), m.group(0))))
    return [c for _, c in sorted(found, key=lambda t: t[0])]


def outputs_of(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in OUTPUT_OPTIONS]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, data_dir):
    """An empty folder, the shared data folder, an empty cache; the Python examples run first."""
    root = tmp_path_factory.mktemp("readme")
    namespaces = []
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("CZTGEO_DATA_DIR", str(data_dir))
        mp.setenv("CZTGEO_CACHE_DIR", str(root / ".cache"))
        for code in python_examples():
            ns: dict[str, object] = {"__name__": "__readme__"}
            exec(compile(code, str(README), "exec"), ns)
            namespaces.append(ns)
        yield root, namespaces


def test_readme_has_examples():
    assert len(python_examples()) >= 1
    assert len(command_examples()) >= 10


def test_every_shell_line_is_a_cztgeo_command_or_listed():
    others = {seg for seg, _ in shell_segments() if not seg.startswith("cztgeo ")}
    assert others <= set(NOT_EXAMPLES), others - set(NOT_EXAMPLES)


def test_python_example_runs_and_writes_the_map(workspace):
    root, namespaces = workspace
    assert len(namespaces) == len(python_examples())
    assert (root / "map.html").stat().st_size > 0


def test_python_example_finds_the_site_in_the_green_heart(workspace):
    """What the README says of its sites.csv: site 1 (the park) lies in the green heart."""
    _, namespaces = workspace
    hits = namespaces[0]["hits"]
    assert hits[hits["status"].isin(["inside", "partly"])]["id"].tolist() == [1]


@pytest.mark.parametrize("command", command_examples(), ids=lambda c: c.text[:60])
def test_command_runs_as_written(workspace, command):
    from cztgeo.cli import main

    if INTERNET in command.context:
        pytest.skip(f"the README marks it: {INTERNET}")
    if SERVER in command.context:
        pytest.skip(f"the README marks it: {SERVER} (tests/test_service.py drives the server)")
    root, _ = workspace
    argv = shlex.split(command.text)[1:]
    expected = EXIT_CODES.get(argv[0], 0)
    assert main(argv) == expected, command.text
    for out in outputs_of(argv):
        assert (root / out).exists(), f"{command.text}: {out} not written"
