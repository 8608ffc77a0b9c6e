"""`cztgeo data fetch` against a local HTTP server on 127.0.0.1 serving a real small PBF."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from cztgeo.cli import main
from cztgeo.errors import DataSourceError, OfflineError
from cztgeo.network import NetworkWarning, load_network
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
    with pytest.warns(NetworkWarning, match="no location"):
        code = main(
            ["data", "fetch", "--url", f"{server}/helsinki.osm.pbf", "--out", str(out),
             "--bbox", HELSINKI_BBOX, "--modes", "drive,walk", "-q"]
        )  # fmt: skip
    assert code == 0, capsys.readouterr().err
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
