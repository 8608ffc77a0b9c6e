"""All-or-nothing outputs: every command writes through :class:`Outputs`.

Files are staged in a hidden folder beside their targets and moved into place only after
everything succeeded, so a failure (or SIGKILL) leaves the earlier outputs as they were. A folder
output is swapped in as a whole (with a ``cztgeo-manifest.json`` naming the run that wrote it);
an output path that is also an input is refused before any work is done. Temporary files of
runs that were killed are cleaned up (or their interrupted commit finished) by the next run
writing to the same folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as _dt
import hashlib
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .errors import OutputError

__all__ = ["MANIFEST", "Outputs", "atomic_path", "file_sha256", "recover"]

MANIFEST = "cztgeo-manifest.json"
_TAG = ".cztgeo-tmp-"  # prefix of every staging file/folder: ".cztgeo-tmp-<pid>-<hex>..."
_OLD = ".cztgeo-old-"  # a replaced output folder, until it is deleted
_JOURNAL = ".journal"


_FAULT_HITS: dict[str, int] = {}


def _fault(point: str) -> None:
    """Fault injection for the kill tests: ``CZTGEO_TEST_KILL_AT=<point>[#n]`` SIGKILLs the
    process the n-th time (default first) it reaches that point. Never set outside tests."""
    want = os.environ.get("CZTGEO_TEST_KILL_AT", "")
    if not want or want.split("#")[0] != point:
        return
    _FAULT_HITS[point] = _FAULT_HITS.get(point, 0) + 1
    nth = int(want.split("#")[1]) if "#" in want else 1
    if _FAULT_HITS[point] == nth:
        os.kill(os.getpid(), signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _owner_pid(name: str, tag: str) -> int | None:
    try:
        return int(name[len(tag) :].split("-", 1)[0])
    except ValueError:
        return None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _roll_forward(journal: Path) -> None:
    """Finish a commit whose process died half-way: every staged file is complete (the journal
    is written only after staging), so completing the moves gives the new set."""
    try:
        spec = json.loads(journal.read_text(encoding="utf-8"))
        for src, dst in spec["moves"]:
            if os.path.lexists(src):
                os.replace(src, dst)
        for stale in spec.get("remove", []):
            if os.path.lexists(stale):
                os.unlink(stale)
        if spec.get("staging"):
            shutil.rmtree(spec["staging"], ignore_errors=True)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    journal.unlink(missing_ok=True)


def recover(folder: str | os.PathLike[str]) -> None:
    """Clean up after runs that were killed while writing into ``folder``: finish interrupted
    commits, put back a replaced output folder that was not yet swapped, delete staging files."""
    parent = Path(folder)
    if not parent.is_dir():
        return
    try:
        entries = sorted(parent.iterdir(), key=lambda q: not q.name.endswith(_JOURNAL))
    except OSError:
        return
    for q in entries:
        for tag in (_TAG, _OLD):
            if q.name.startswith(tag):
                pid = _owner_pid(q.name, tag)
                if pid is None or _pid_alive(pid):
                    break
                if q.name.endswith(_JOURNAL):
                    _roll_forward(q)
                elif tag == _OLD:
                    final = parent / q.name.split("-", 3)[-1]
                    if not os.path.lexists(final):
                        os.replace(q, final)
                    else:
                        _remove(q)
                elif q.exists():
                    _remove(q)
                break


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    res = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(res == 0)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _abs(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(os.fspath(path)))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


class Outputs:
    """All the files one command writes, staged beside their targets and committed together.

    Use it as a context manager; ``file(path)`` / ``folder(path)`` return the staging path to
    write to. On leaving the block without error every staged output is moved into place
    (folders swapped as a whole, multi-file formats such as Shapefile moved as a set); on an
    error, nothing is moved and the staging files are deleted.

    Parameters
    ----------
    command
        Recorded in the manifest of folder outputs.
    inputs
        Paths the command reads: an output equal to one of them, or a folder output containing
        one, is refused (:class:`~cztgeo.errors.OutputError`).
    """

    def __init__(
        self, command: str = "cztgeo", *, inputs: Iterable[str | os.PathLike[str] | None] = ()
    ) -> None:
        self.command = command
        self.run_id = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.inputs = [_abs(p) for p in inputs if p]
        self._dirs: dict[Path, Path] = {}  # final folder -> staging folder
        self._file_stage: dict[Path, Path] = {}  # parent folder -> staging folder for files
        self._files: list[Path] = []  # final file paths
        self._made: list[Path] = []  # folders created for the targets (removed on failure)

    # -- registering targets
    def _check_input(self, final: Path, *, folder: bool) -> None:
        for inp in self.inputs:
            if inp == final or _same(inp, final):
                raise OutputError(f"output {str(final)!r} is also an input: write to another path")
            if folder and (final in inp.parents):
                raise OutputError(
                    f"input {str(inp)!r} lies inside the output folder {str(final)!r}, which "
                    "this run replaces: write to another folder"
                )

    def _mkparent(self, parent: Path) -> None:
        missing = []
        q = parent
        while not q.exists():
            missing.append(q)
            q = q.parent
        if q.exists() and not q.is_dir():
            raise OutputError(f"cannot write into {str(q)!r}: it is a file, not a folder")
        parent.mkdir(parents=True, exist_ok=True)
        self._made.extend(missing)
        recover(parent)

    def folder(self, path: str | os.PathLike[str]) -> Path:
        """Staging folder whose content becomes the folder ``path`` on commit."""
        final = _abs(path)
        if final in self._dirs:
            return self._dirs[final]
        if final.exists() and not final.is_dir():
            raise OutputError(f"output folder {str(final)!r} is a file: give a folder path")
        self._check_input(final, folder=True)
        self._mkparent(final.parent)
        stage = final.parent / f"{_TAG}{self.run_id}-{final.name}"
        stage.mkdir()
        self._dirs[final] = stage
        return stage

    def file(self, path: str | os.PathLike[str]) -> Path:
        """Staging path whose file (with any sidecar files of the same stem) becomes ``path``."""
        final = _abs(path)
        for d, stage in self._dirs.items():
            if d in final.parents:
                self._check_input(final, folder=False)
                sub = stage / final.relative_to(d)
                sub.parent.mkdir(parents=True, exist_ok=True)
                return sub
        if final.is_dir():
            raise OutputError(f"output {str(final)!r} is a folder: give a file path")
        self._check_input(final, folder=False)
        parent = final.parent
        if parent not in self._file_stage:
            self._mkparent(parent)
            stage = parent / f"{_TAG}{self.run_id}-files"
            stage.mkdir()
            self._file_stage[parent] = stage
        self._files.append(final)
        return self._file_stage[parent] / final.name

    # -- commit / abort
    def _manifest(self, stage: Path) -> None:
        from . import __version__

        files = {
            str(q.relative_to(stage)): {"bytes": q.stat().st_size, "sha256": file_sha256(q)}
            for q in sorted(stage.rglob("*"))
            if q.is_file() and q.name != MANIFEST
        }
        meta = {
            "written_by": f"cztgeo {__version__}",
            "command": self.command,
            "run_id": self.run_id,
            "finished_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        (stage / MANIFEST).write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n")

    @staticmethod
    def _owned(folder: Path) -> set[str] | None:
        """Names a previous cztgeo run wrote into ``folder``, or None if the folder holds other
        files too (then it is updated file by file, never swapped)."""
        try:
            meta = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            listed = {str(n).split("/")[0] for n in meta["files"]} | {MANIFEST}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        present = {q.name for q in folder.iterdir()}
        return listed if present <= listed else None

    def _commit_moves(self, parent: Path, moves: list[tuple[Path, Path]], remove: list[Path],
                      staging: Path | None) -> None:  # fmt: skip
        journal = parent / f"{_TAG}{self.run_id}-{secrets.token_hex(2)}{_JOURNAL}"
        spec = {
            "moves": [[str(a), str(b)] for a, b in moves],
            "remove": [str(r) for r in remove],
            "staging": str(staging) if staging else None,
        }
        tmp = journal.with_name(journal.name + ".part")
        tmp.write_text(json.dumps(spec), encoding="utf-8")
        os.replace(tmp, journal)
        _fault("journal-written")
        for k, (a, b) in enumerate(moves):
            os.replace(a, b)
            if k == 0:
                _fault("first-file-moved")
        for r in remove:
            if os.path.lexists(r):
                os.unlink(r)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        journal.unlink(missing_ok=True)

    def commit(self) -> None:
        _fault("staged")
        for final, stage in self._dirs.items():
            self._manifest(stage)
            _fault("manifest-written")
            if not final.exists():
                os.rename(stage, final)
                continue
            owned = self._owned(final)
            if owned is not None:
                if _exchange(stage, final):
                    _fault("swapped")
                    shutil.rmtree(stage, ignore_errors=True)
                    continue
                old = final.parent / f"{_OLD}{self.run_id}-{final.name}"
                os.rename(final, old)
                _fault("old-moved-aside")
                os.rename(stage, final)
                shutil.rmtree(old, ignore_errors=True)
                continue
            # a folder with other files in it: replace ours file by file, keep the rest
            new = list(stage.iterdir())
            stale: list[Path] = []
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
                meta = json.loads((final / MANIFEST).read_text(encoding="utf-8"))
                names = {q.name for q in new}
                stale = [final / n for n in meta["files"] if "/" not in n and n not in names]
            # the journal sits beside the staging folder, so recovery finishes the moves
            # before it would delete the staging folder of the dead run
            self._commit_moves(final.parent, [(q, final / q.name) for q in new], stale, stage)
        for parent, stage in self._file_stage.items():
            moves = [(q, parent / q.name) for q in sorted(stage.iterdir())]
            self._commit_moves(parent, moves, [], stage)
        self._dirs.clear()
        self._file_stage.clear()

    def abort(self) -> None:
        for stage in [*self._dirs.values(), *self._file_stage.values()]:
            shutil.rmtree(stage, ignore_errors=True)
        for d in reversed(self._made):  # folders created for the outputs, if still empty
            with contextlib.suppress(OSError):
                d.rmdir()
        self._dirs.clear()
        self._file_stage.clear()

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    recover(final.parent)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f"{_TAG}{os.getpid()}-{final.stem}.", suffix=final.suffix, dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # some drivers refuse to write over an existing file
    try:
        yield tmp
        _fault("atomic-before-rename")
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


# ---------------------------------------------------------------- CSV cells are data
