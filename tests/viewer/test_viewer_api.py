"""`dosna serve`: the JSON / PNG / .npy API (docs/viewer.md) over hdf5, ceph
and s3 stores, bad requests, path traversal, tokens and concurrent requests.

Run by scripts/tests.d/viewer.sh (make test). Ceph/S3 parts need the local
services (scripts/local-services.sh); with DOSNA_REQUIRE_SERVICES set their
absence is a failure, not a skip. A ram store lives in one process, so `dosna
serve ram://X` can only show an empty store: that is what its test checks.
There is no zarr format in DosNa yet, so every dataset reports format "dosna".
"""
import concurrent.futures
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from test_cli import (DOSNA, ceph_store, import_array, run, s3_store,  # noqa: E402
                      services_required, uid)

sys.path.pop(0)


class Server:
    """A running `dosna serve` on a free port; stop() checks it exits 0."""

    def __init__(self, store, *args):
        self.proc = subprocess.Popen([DOSNA, "serve", store, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.proc.kill()
            raise AssertionError(f"dosna serve did not start: {line}{self.proc.stderr.read()}")
        self.url = line.split(" at ")[1].split()[0].rstrip("/")

    def get(self, path, headers=None, **params):
        query = urllib.parse.urlencode(params)
        req = urllib.request.Request(self.url + path + ("?" + query if query else ""),
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def json(self, path, status=200, **params):
        code, headers, body = self.get(path, **params)
        assert code == status, (code, body)
        assert headers["Content-Type"] == "application/json"
        return json.loads(body)

    def npy(self, **params):
        code, headers, body = self.get("/api/slice.npy", **params)
        assert code == 200, body
        return np.load(io.BytesIO(body)), headers

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=30) == 0, self.proc.stderr.read()


@pytest.fixture
def serve():
    servers = []

    def start(store, *args):
        servers.append(Server(store, *args))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


def read_png(data):
    """8-bit grey or RGB, non-interlaced PNG -> array (rows, cols[, 3])."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
            depth, colour, interlace = body[8], body[9], body[12]
            assert depth == 8 and colour in (0, 2) and interlace == 0
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    bpp = 1 if colour == 0 else 3
    raw, stride = zlib.decompress(idat), width * bpp
    out = np.zeros((height, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for r in range(height):
        line = raw[r * (stride + 1):(r + 1) * (stride + 1)]
        ftype, cur = line[0], np.frombuffer(line[1:], np.uint8).astype(np.int32)
        if ftype == 2:
            cur = (cur + prev) & 255
        elif ftype != 0:
            cur = cur.copy()
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                up, ul = prev[i], (prev[i - bpp] if i >= bpp else 0)
                if ftype == 1:
                    pred = left
                elif ftype == 3:
                    pred = (left + up) // 2
                else:
                    p = left + up - ul
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
                cur[i] = (cur[i] + pred) & 255
        out[r], prev = cur, cur
    img = out.astype(np.uint8)
    return img if bpp == 1 else img.reshape(height, width, 3)


def grey(values, lo, hi):
    return np.clip(np.round((values.astype(np.float64) - lo) / (hi - lo) * 255), 0,
                   255).astype(np.uint8)


VOLUME = np.random.default_rng(5).standard_normal((6, 40, 52)).astype("<f4")
CHUNKS = (2, 16, 16)


def sparse_source(tmp_path):
    """An hdf5 store with VOLUME as 'vol' (chunks 2x16x16) with chunk (1, 0, 2)
    deleted, and a 2-D int16 dataset 'flat'."""
    store = f"hdf5://{tmp_path}/src"
    import_array(tmp_path, store, "vol", VOLUME, chunks=CHUNKS)
    (tmp_path / "src" / "vol" / "chunk_1_0_2.h5").unlink()
    import_array(tmp_path, store, "flat", np.arange(30 * 20, dtype="<i2").reshape(30, 20),
                 chunks=(8, 8))
    return store


def expected_volume():
    v = VOLUME.copy()
    v[2:4, 0:16, 32:48] = 0  # the deleted chunk reads as the fill value
    return v


def stores(tmp_path):
    """(label, store URI, dataset names) for hdf5 and, when configured, ceph and s3."""
    src = sparse_source(tmp_path)
    out = [("hdf5", src, {"vol": "vol", "flat": "flat"})]
    for label, dst in (("ceph", ceph_store()), ("s3", s3_store())):
        if dst is None:
            continue
        names = {k: uid(f"v{k}") for k in ("vol", "flat")}
        for k, n in names.items():
            run("cp", src, k, dst, n, "-q")
        out.append((label, dst, names))
    return out


def test_api_on_every_store(tmp_path, serve):
    want = expected_volume()
    labels = []
    for label, store, names in stores(tmp_path):
        labels.append(label)
        s = serve(store)
        listing = s.json("/api/datasets")
        by_name = {d["name"]: d for d in listing["datasets"]}
        vol = by_name[names["vol"]]
        assert vol["shape"] == [6, 40, 52] and vol["dtype"] == "float32"
        assert vol["chunk_size"] == list(CHUNKS) and vol["format"] == "dosna"
        assert vol["stored_chunks"] == 3 * 3 * 4 - 1 and vol["total_chunks"] == 36, label
        info = s.json("/api/info", dataset=names["vol"])
        assert info["chunk_grid"] == [3, 3, 4] and info["fillvalue"] == "0.0"
        assert info["codecs"] == [] and info["attributes"] == {}

        # Exact planes along every axis, as raw .npy.
        for axis in range(3):
            for index in (0, VOLUME.shape[axis] - 1, 3 % VOLUME.shape[axis]):
                got, headers = s.npy(dataset=names["vol"], axis=axis, index=index)
                assert got.dtype == np.float32
                assert np.array_equal(got, np.take(want, index, axis=axis)), (label, axis, index)
                assert headers["X-Dosna-Stride"] == "1"
        # Defaults: axis 0, the middle index.
        got, _ = s.npy(dataset=names["vol"])
        assert np.array_equal(got, want[3])
        # Downsampled to at most max pixels on the longest side, by striding.
        got, headers = s.npy(dataset=names["vol"], axis=0, index=2, max=10)
        assert headers["X-Dosna-Stride"] == "6" and headers["X-Dosna-Plane"] == "40,52"
        assert np.array_equal(got, want[2, ::6, ::6])

        # The chunk map of the plane: chunk (1, 0, 2) is missing at indices 2, 3.
        cm = s.json("/api/chunkmap", dataset=names["vol"], axis=0, index=3)
        assert cm["grid"] == [3, 4] and cm["chunk"] == [16, 16]
        assert cm["exists"] == "11" + "0" + "1" + "1111" + "1111"
        assert s.json("/api/chunkmap", dataset=names["vol"], axis=0, index=5)["exists"] == "1" * 12
        cm = s.json("/api/chunkmap", dataset=names["vol"], axis=2, index=40)
        assert cm["grid"] == [3, 3] and cm["exists"] == "111" + "011" + "111"

        # PNG: grey with the data's limits or given ones; viridis as RGB.
        code, headers, body = s.get("/api/slice.png", dataset=names["vol"], axis=1, index=7)
        assert code == 200 and headers["Content-Type"] == "image/png"
        plane = want[:, 7, :]
        assert np.array_equal(read_png(body), grey(plane, plane.min(), plane.max()))
        assert float(headers["X-Dosna-Vmin"]) == pytest.approx(plane.min())
        code, headers, body = s.get("/api/slice.png", dataset=names["vol"], axis=1, index=7,
                                    vmin=-1, vmax=1, cmap="viridis")
        lut = np.array(s.json("/api/colormap", name="viridis")["rgb"], np.uint8).reshape(256, 3)
        assert np.array_equal(read_png(body), lut[grey(plane, -1, 1)])
        assert lut[0].tolist() == [68, 1, 84] and lut[255].tolist() == [253, 231, 37]

        # 2-D datasets: the whole array is the plane.
        flat, _ = s.npy(dataset=names["flat"])
        assert flat.dtype == np.int16
        assert np.array_equal(flat, np.arange(600, dtype="<i2").reshape(30, 20))
        assert s.json("/api/chunkmap", dataset=names["flat"])["exists"] == "1" * 12
        s.json("/api/slice.npy", 400, dataset=names["flat"], axis=0)
    assert labels == (["hdf5", "ceph", "s3"] if services_required() else labels)


def test_empty_ram_store(serve):
    s = serve("ram://nothing")
    listing = s.json("/api/datasets")
    assert listing == {"store": "nothing", "backend": "ram", "datasets": []}
    s.json("/api/info", 404, dataset="x")


@pytest.fixture
def hdf5_server(tmp_path, serve):
    return serve(sparse_source(tmp_path))


BAD = [
    ({}, 400, "'dataset' is required"),
    ({"dataset": "missing"}, 404, "'missing' not found"),
    ({"dataset": "../../etc"}, 404, ""),
    ({"dataset": "vol", "axis": "3"}, 400, "'axis': 3 is outside [0, 2]"),
    ({"dataset": "vol", "axis": "-1"}, 400, "'axis'"),
    ({"dataset": "vol", "axis": "x"}, 400, "'axis': 'x' is not an integer"),
    ({"dataset": "vol", "index": "6"}, 400, "'index': 6 is outside [0, 5]"),
    ({"dataset": "vol", "index": "1.5"}, 400, "is not an integer"),
    ({"dataset": "vol", "index": " 1"}, 400, "is not an integer"),
    ({"dataset": "vol", "index": "99999999999999999999999"}, 400, "is not an integer"),
    ({"dataset": "vol", "max": "0"}, 400, "'max': 0 is outside"),
    ({"dataset": "vol", "max": "100000000"}, 400, "'max'"),
    ({"dataset": "vol", "vmin": "nan"}, 400, "'vmin'"),
    ({"dataset": "vol", "vmin": "2", "vmax": "1"}, 400, "vmin must not exceed vmax"),
    ({"dataset": "vol", "vmin": "1e300"}, 400, "'vmin'/'vmax'"),
    ({"dataset": "vol", "cmap": "jet"}, 400, "unknown colour map 'jet'"),
]


@pytest.mark.parametrize("params,status,message", BAD)
def test_bad_requests_get_json_errors_and_the_server_stays_up(hdf5_server, params, status,
                                                              message):
    s = hdf5_server
    for path in ("/api/slice.png", "/api/slice.npy", "/api/chunkmap", "/api/info"):
        code, headers, body = s.get(path, **params)
        if path != "/api/slice.png" and ("vmin" in params or "cmap" in params):
            continue  # only the PNG takes contrast and colour
        if path in ("/api/chunkmap", "/api/info") and "max" in params:
            continue
        if path == "/api/info" and set(params) - {"dataset"}:
            continue
        assert code == status, (path, params, body)
        assert headers["Content-Type"] == "application/json"
        err = json.loads(body)
        assert err["status"] == status and message in err["error"], (path, err)
    assert s.json("/api/datasets")["datasets"]  # still serving


def test_too_large_plane_is_refused(tmp_path, serve):
    store = f"hdf5://{tmp_path}/big"
    run("create", store, "huge", "--shape", "2,100000,100000", "--chunks", "1,4096,4096")
    s = serve(store)
    err = s.json("/api/slice.npy", 413, dataset="huge", axis=0, index=0)
    assert "too large" in err["error"] and "max=" in err["error"]
    got, headers = s.npy(dataset="huge", axis=0, index=1, max=100)
    assert got.shape == (100, 100) and not got.any() and headers["X-Dosna-Stride"] == "1000"


TRAVERSAL = [
    "/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
    "/index.html/../../etc/passwd", "//etc/passwd", "/viewer.js%00", "/etc/passwd",
    "/api/../../etc/passwd", "/tools/viewer/index.html", "/CMakeLists.txt", "/%5c..%5cetc",
]


@pytest.mark.parametrize("path", TRAVERSAL)
def test_no_file_outside_the_embedded_assets(hdf5_server, path):
    import http.client
    host, port = hdf5_server.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)  # sent as written, not normalised by a client
    r = conn.getresponse()
    body = r.read()
    assert r.status in (400, 404), (path, r.status)
    assert b"root:x:0" not in body and b"cmake_minimum_required" not in body
    assert b"<html" not in body
    conn.close()


def test_assets_methods_and_host_check(hdf5_server):
    s = hdf5_server
    for path, ctype in (("/", "text/html"), ("/index.html", "text/html"),
                        ("/viewer.js", "text/javascript"), ("/viewer.css", "text/css")):
        code, headers, body = s.get(path)
        assert code == 200 and headers["Content-Type"].startswith(ctype), path
    assert s.get("/")[2] == s.get("/index.html")[2]
    req = urllib.request.Request(s.url + "/api/info?dataset=vol", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 405 and b"read-only" in e.value.read()
    # A foreign web page reaching 127.0.0.1 under its own name is refused.
    code, _, body = s.get("/api/datasets", headers={"Host": "attacker.example:80"})
    assert code == 403 and b"not this machine" in body


def test_token(tmp_path, serve):
    store = sparse_source(tmp_path)
    s = serve(store, "--token", "s3cret-t0ken")
    for params, headers in (({}, {}), ({"token": "wrong"}, {}), ({"token": "s3cret-t0ke"}, {}),
                            ({}, {"Authorization": "Bearer nope"}),
                            ({}, {"Cookie": "dosna_token=s3cret"})):
        for path in ("/", "/viewer.js", "/api/datasets", "/api/slice.png"):
            code, _, body = s.get(path, headers=headers, **params)
            assert code == 401 and b"token" in body, (path, params, headers)
            assert b"s3cret" not in body
    code, headers, _ = s.get("/api/datasets", token="s3cret-t0ken")
    assert code == 200 and "dosna_token=s3cret-t0ken" in headers["Set-Cookie"]
    assert "HttpOnly" in headers["Set-Cookie"]
    assert s.get("/api/info", headers={"Authorization": "Bearer s3cret-t0ken"},
                 dataset="vol")[0] == 200
    assert s.get("/viewer.js", headers={"Cookie": "a=b; dosna_token=s3cret-t0ken"})[0] == 200
    # With a token the Host check is the token's job (the server may be remote).
    assert s.get("/api/datasets", headers={"Host": "viewer.example", "Authorization":
                                           "Bearer s3cret-t0ken"})[0] == 200


def test_non_loopback_needs_a_token(tmp_path):
    store = sparse_source(tmp_path)
    p = run("serve", store, "--host", "0.0.0.0", "--port", "0", code=2)
    assert "needs --token" in p.stderr
    s = Server(store, "--host", "0.0.0.0", "--token", "tok")
    try:
        assert s.url.startswith("http://0.0.0.0:")
        port = s.url.rsplit(":", 1)[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/datasets?token=tok") as r:
            assert r.status == 200
        assert "tok" not in s.url
    finally:
        s.stop()


def test_port_in_use_is_a_clear_error(hdf5_server, tmp_path):
    port = hdf5_server.url.rsplit(":", 1)[1]
    p = run("serve", f"hdf5://{tmp_path}/src", "--port", port, code=5)
    assert "cannot listen" in p.stderr and port in p.stderr


def test_many_concurrent_requests(hdf5_server):
    s = hdf5_server
    want = expected_volume()

    def one(i):
        axis, index = i % 3, i % 6
        got, _ = s.npy(dataset="vol", axis=axis, index=index)
        return np.array_equal(got, np.take(want, index, axis=axis))

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        assert all(pool.map(one, range(200)))
    assert s.proc.poll() is None
