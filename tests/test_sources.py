"""`cztgeo data fetch` against a local HTTP server on 127.0.0.1 serving a real small PBF."""

from __future__ import annotations

import hashlib
import http.server
import logging
import shutil
import socket
import threading
from pathlib import Path

import pytest
import requests

from cztgeo import sources
from cztgeo.cli import main
from cztgeo.errors import DataSourceError, InputError, OfflineError
from cztgeo.network import load_network
from cztgeo.settings import Settings
from cztgeo.sources import download

pytestmark = [pytest.mark.enable_socket, pytest.mark.allow_hosts(["127.0.0.1"])]

HELSINKI_BBOX = "24.90,60.15,24.98,60.19"


@pytest.fixture
def server(tmp_path, helsinki_pbf):
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(helsinki_pbf, root / "helsinki.osm.pbf")
    digest = hashlib.md5(helsinki_pbf.read_bytes(), usedforsecurity=False).hexdigest()
    (root / "helsinki.osm.pbf.md5").write_text(f"{digest}  helsinki.osm.pbf\n")
    (root / "bad.osm.pbf").write_bytes(helsinki_pbf.read_bytes())
    (root / "bad.osm.pbf.md5").write_text("0" * 32 + "  bad.osm.pbf\n")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def do_GET(self):
            if self.path == "/cut.osm.pbf":  # promises 100 kB, sends 5 kB, hangs up
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self.wfile.write(b"x" * 5000)
                self.close_connection = True
                return
            super().do_GET()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_downloads_checks_clips_and_builds_caches(server, tmp_path, capsys, helsinki_pbf):
    out = tmp_path / "data"
    code = main(
        ["data", "fetch", "--url", f"{server}/helsinki.osm.pbf", "--out", str(out),
         "--bbox", HELSINKI_BBOX, "--modes", "drive,walk", "-q"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    # the extract's ways with nodes outside it: one line per warning on stderr
    assert "cztgeo: warning:" in err and "no location" in err
    assert (out / "helsinki.osm.pbf").read_bytes() == helsinki_pbf.read_bytes()
    drive = load_network(out / "czt_drive.cztnet", mode="drive")
    walk = load_network(out / "czt_walk.cztnet", mode="walk")
    assert drive.n_arcs > 500 and walk.n_arcs > drive.n_arcs
    assert drive.lon.min() >= 24.90 and drive.lat.max() <= 60.19
    assert not list(out.glob(".*"))  # no temporary files left


def test_fetch_checksum_mismatch_leaves_nothing(server, tmp_path, capsys):
    out = tmp_path / "data"
    code = main(["data", "fetch", "--url", f"{server}/bad.osm.pbf", "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert "checksum mismatch" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_download_http_error_and_offline(server, tmp_path):
    with pytest.raises(DataSourceError, match="HTTP 404"):
        download(f"{server}/missing.pbf", tmp_path / "x.pbf", settings=Settings())
    assert not (tmp_path / "x.pbf").exists()
    with pytest.raises(OfflineError):
        download(f"{server}/helsinki.osm.pbf", tmp_path / "x.pbf", settings=Settings(offline=True))


def test_sha256_verified(server, tmp_path, helsinki_pbf):
    good = hashlib.sha256(helsinki_pbf.read_bytes()).hexdigest()
    p = download(f"{server}/helsinki.osm.pbf", tmp_path / "h.pbf", settings=Settings(), sha256=good)
    assert Path(p).stat().st_size == helsinki_pbf.stat().st_size
    with pytest.raises(DataSourceError, match="sha256"):
        download(
            f"{server}/helsinki.osm.pbf", tmp_path / "h2.pbf", settings=Settings(), sha256="ab" * 32
        )
    assert not (tmp_path / "h2.pbf").exists()


def test_short_read_leaves_nothing(server, tmp_path):
    folder = tmp_path / "dl"
    with pytest.raises(DataSourceError, match="download of .*cut.osm.pbf failed") as err:
        download(f"{server}/cut.osm.pbf", folder / "cut.osm.pbf", settings=Settings())
    assert list(folder.iterdir()) == []  # neither the file nor a temporary
    assert isinstance(err.value.__cause__, requests.RequestException)  # the cause is kept


def test_failed_download_keeps_the_previous_file(server, tmp_path):
    dest = tmp_path / "dl" / "h.pbf"
    dest.parent.mkdir()
    dest.write_bytes(b"previous extract")
    with pytest.raises(DataSourceError, match="sha256"):
        download(f"{server}/helsinki.osm.pbf", dest, settings=Settings(), sha256="00" * 32)
    assert dest.read_bytes() == b"previous extract"
    assert [f.name for f in dest.parent.iterdir()] == ["h.pbf"]


def test_existing_file_is_replaced(server, tmp_path, helsinki_pbf):
    dest = tmp_path / "h.pbf"
    dest.write_bytes(b"previous extract")
    download(f"{server}/helsinki.osm.pbf", dest, settings=Settings())
    assert dest.read_bytes() == helsinki_pbf.read_bytes()


def test_md5_sidecar_checked(server, tmp_path, helsinki_pbf):
    dest = download(
        f"{server}/helsinki.osm.pbf",
        tmp_path / "h.pbf",
        settings=Settings(),
        md5_url=f"{server}/helsinki.osm.pbf.md5",
    )
    assert dest.read_bytes() == helsinki_pbf.read_bytes()
    with pytest.raises(DataSourceError, match="checksum mismatch .* md5"):
        download(
            f"{server}/bad.osm.pbf",
            tmp_path / "b.pbf",
            settings=Settings(),
            md5_url=f"{server}/bad.osm.pbf.md5",
        )
    assert not (tmp_path / "b.pbf").exists()


def test_missing_md5_sidecar_is_logged_not_fatal(server, tmp_path, helsinki_pbf, caplog):
    with caplog.at_level(logging.WARNING, logger="cztgeo.sources"):
        dest = download(
            f"{server}/helsinki.osm.pbf",
            tmp_path / "h.pbf",
            settings=Settings(),
            md5_url=f"{server}/nothing-here.md5",
        )
    assert dest.read_bytes() == helsinki_pbf.read_bytes()
    assert "no checksum at" in caplog.text and "HTTP 404" in caplog.text


def test_progress_reports_bytes_up_to_the_file_size(server, tmp_path, helsinki_pbf):
    calls: list[tuple[int, int | None]] = []
    download(
        f"{server}/helsinki.osm.pbf",
        tmp_path / "h.pbf",
        settings=Settings(),
        progress=lambda done, total: calls.append((done, total)),
    )
    size = helsinki_pbf.stat().st_size
    assert calls and calls[-1] == (size, size)
    done = [d for d, _ in calls]
    assert done == sorted(done) and max(done) == size


def test_offline_and_bad_scheme_refused_before_any_connection(tmp_path, monkeypatch):
    def no_socket(*a, **k):
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(sources.pooch, "HTTPDownloader", no_socket)
    with pytest.raises(OfflineError, match="offline"):
        download("https://example.org/x.pbf", tmp_path / "x.pbf", settings=Settings(offline=True))
    with pytest.raises(InputError, match="only http"):
        download(f"file://{tmp_path}/y.pbf", tmp_path / "x.pbf", settings=Settings())
    assert list(tmp_path.iterdir()) == []
