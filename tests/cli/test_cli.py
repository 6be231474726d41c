"""Drives build/bin/dosna end to end: copies across backends, .npy and HDF5
round trips, slices as text and PNG, progress bar, exit codes and messages.

Run by scripts/tests.d/cli.sh (make test). Ceph/S3 parts need CEPH_CONF +
DOSNA_CEPH_POOL / DOSNA_S3_ENDPOINT (scripts/local-services.sh); with
DOSNA_REQUIRE_SERVICES set their absence is a failure, not a skip.
"""
import json
import os
import pty
import struct
import subprocess
import uuid
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOSNA = os.environ.get("DOSNA_CLI", str(ROOT / "build" / "bin" / "dosna"))


def services_required():
    return os.environ.get("DOSNA_REQUIRE_SERVICES", "") not in ("", "0", "false")


def run(*args, code=0, env=None):
    """Runs dosna; checks the exit code and, on failure, the one-line message."""
    p = subprocess.run([DOSNA, *map(str, args)], capture_output=True, text=True, env=env,
                       timeout=600)
    assert p.returncode == code, f"dosna {' '.join(map(str, args))}: rc={p.returncode}\n{p.stderr}"
    if code != 0:
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("dosna: error: "), p.stderr
    return p


def uid(hint):
    # Lower case, 3..63 chars: valid as an S3 bucket (one bucket per dataset).
    return f"cli-{uuid.uuid4().hex[:10]}-{hint}"


@pytest.fixture
def store(tmp_path):
    """A fresh hdf5 store URI (its directory is created by writing commands)."""
    return f"hdf5://{tmp_path}/store"


def ceph_store():
    conf, pool = os.environ.get("CEPH_CONF"), os.environ.get("DOSNA_CEPH_POOL")
    if not conf or not pool:
        if services_required():
            pytest.fail("ceph: CEPH_CONF/DOSNA_CEPH_POOL not set but DOSNA_REQUIRE_SERVICES is")
        return None
    return f"ceph://{pool}?conffile={conf}"


def s3_store():
    endpoint = os.environ.get("DOSNA_S3_ENDPOINT")
    if not endpoint:
        if services_required():
            pytest.fail("s3: DOSNA_S3_ENDPOINT not set but DOSNA_REQUIRE_SERVICES is")
        return None
    return f"s3://cli?endpoint_url={endpoint}"


def import_array(tmp_path, store, name, array, chunks=None):
    path = tmp_path / f"{name}.npy"
    np.save(path, array)
    extra = ["--chunks", ",".join(map(str, chunks))] if chunks else []
    run("import", path, store, name, "-q", *extra)


def export_array(tmp_path, store, name):
    path = tmp_path / f"out-{uuid.uuid4().hex[:6]}.npy"
    run("export", store, name, path, "-q")
    return np.load(path)


# ---------------------------------------------------------------- inspect


def test_create_ls_info_rm(store, tmp_path):
    run("create", store, "e", "--shape", "10,20", "--chunks", "4,8", "--dtype", "int16",
        "--fillvalue", "7")
    import_array(tmp_path, store, "d", np.ones((5, 6, 7), "<f8"), chunks=(2, 3, 7))
    out = run("ls", store).stdout.splitlines()
    assert out[0].split() == ["NAME", "SHAPE", "DTYPE", "CHUNKS", "STORED"]
    assert out[1].split()[0] == "d" and "6/6" in out[1] and "float64" in out[1]
    assert out[2].split()[0] == "e" and "0/9" in out[2] and "int16" in out[2]
    listing = json.loads(run("ls", store, "--json").stdout)
    assert [d["name"] for d in listing] == ["d", "e"]
    info = json.loads(run("info", store, "e", "--json").stdout)
    assert info["shape"] == [10, 20] and info["chunk_size"] == [4, 8]
    assert info["dtype"] == "int16" and info["fillvalue"] == "7"
    assert info["chunk_grid"] == [3, 3] and info["stored_chunks"] == 0
    text = run("info", store, "d").stdout
    assert "shape:         (5, 6, 7)" in text and "stored_chunks: 6" in text
    assert (export_array(tmp_path, store, "e") == 7).all()
    run("rm", store, "e")
    assert [d["name"] for d in json.loads(run("ls", store, "--json").stdout)] == ["d"]
    run("rm", store, "e", code=3)
    run("rm", store, "e", "--force")


def test_backend_and_opt_instead_of_uri(tmp_path):
    (tmp_path / "s").mkdir()
    run("create", "s", "x", "--shape", "4", "--backend", "hdf5", "--opt", f"directory={tmp_path}")
    assert "x" in run("ls", f"hdf5://{tmp_path}/s").stdout
    assert "x" in run("ls", "s", "--backend", "hdf5", "--opt", f"directory={tmp_path}").stdout
    # Percent escapes are decoded; query options and --opt feed the same map.
    run("create", f"hdf5://{tmp_path}/a%20b+c", "y", "--shape", "2")
    assert (tmp_path / "a b+c" / "y").is_dir()
    assert "y" in run("ls", "hdf5://a%20b+c", "--opt", f"directory={tmp_path}").stdout
    run("ls", f"hdf5://{tmp_path}/s?bogus=1", code=2)
    run("ls", f"ceph://pool", "--backend", "hdf5", code=2)


def test_file_store_uri(tmp_path, store):
    a = np.arange(24, dtype="<i4").reshape(4, 6)
    import_array(tmp_path, store, "a", a, chunks=(2, 3))
    # A writing command creates the file store's directory, as for hdf5.
    dst = f"file://{tmp_path}/zarr/store"
    run("cp", store, "a", dst)
    assert (tmp_path / "zarr" / "store").is_dir()
    info = json.loads(run("info", dst, "a", "--json").stdout)
    assert info["format"] == "zarr3" and info["uri"] == dst
    assert export_array(tmp_path, dst, "a").tobytes() == a.tobytes()
    # The same file store spelt differently is still the source.
    rel = os.path.relpath(tmp_path / "zarr" / "store")
    run("cp", dst, "a", f"file://{rel}", "--force", code=2)
    assert "a" in run("ls", "store", "--backend", "file",
                      "--opt", f"directory={tmp_path}/zarr").stdout


def test_info_prints_the_uri(tmp_path, store):
    run("create", store, "d", "--shape", "4")
    assert f"uri:           {store}\n" in run("info", store, "d").stdout
    assert json.loads(run("info", f"{store}?durable=true", "d", "--json").stdout)["uri"] == \
        f"{store}?durable=true"


@pytest.mark.parametrize("uri, words", [
    ("nfs://host/x", ["unknown backend 'nfs'", "hdf5"]),
    ("ram://", ["names no ram store"]),
    ("ram://a?novalue", ["'novalue' is not key=value"]),
    ("ram://a%2", ["bad percent escape"]),
])
def test_bad_uris_name_what_is_wrong(uri, words):
    p = run("ls", uri, code=2)
    for w in words:
        assert w in p.stderr, p.stderr


def test_ram_store_is_per_process():
    assert run("ls", "ram://scratch").stdout == ""
    run("info", "ram://scratch", "x", code=3)


# ---------------------------------------------------------------- import/export

DTYPES = ["<f4", "<f8", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "|b1", "<c8",
          "<c16"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_npy_round_trip(tmp_path, store, dtype):
    rng = np.random.default_rng(1)
    a = (rng.random((13, 9, 5)) * 200 - 100).astype(dtype)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * a[::-1]
    import_array(tmp_path, store, "a", a, chunks=(4, 4, 4))
    b = export_array(tmp_path, store, "a")
    assert b.dtype == a.dtype and b.shape == a.shape
    assert b.tobytes() == a.tobytes()


def test_npy_fortran_order_and_versions(tmp_path, store):
    a = np.arange(6 * 7 * 8, dtype="<i4").reshape(6, 7, 8)
    np.save(tmp_path / "f.npy", np.asfortranarray(a))
    run("import", tmp_path / "f.npy", store, "f", "--chunks", "4,4,4")
    assert (export_array(tmp_path, store, "f") == a).all()
    for version in [(1, 0), (2, 0), (3, 0)]:
        name = f"v{version[0]}"
        with open(tmp_path / f"{name}.npy", "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        run("import", tmp_path / f"{name}.npy", store, name)
        assert (export_array(tmp_path, store, name) == a).all()


def test_npy_default_chunks_and_1d_0d(tmp_path, store):
    big = np.arange(1 << 21, dtype="<f8")  # 16 MiB: split into <= 4 MiB chunks
    import_array(tmp_path, store, "big", big)
    info = json.loads(run("info", store, "big", "--json").stdout)
    assert info["chunk_size"][0] * 8 <= 4 << 20 and info["stored_chunks"] > 1
    assert (export_array(tmp_path, store, "big") == big).all()
    one = np.arange(5, dtype="<u2")
    import_array(tmp_path, store, "one", one, chunks=(2,))
    assert (export_array(tmp_path, store, "one") == one).all()


def test_hdf5_round_trip(tmp_path, store):
    rng = np.random.default_rng(2)
    data = rng.standard_normal((37, 21, 6)).astype("<f4")
    flags = rng.random((11, 4)) > 0.5
    cplx = (rng.random((5, 5)) + 1j * rng.random((5, 5))).astype("<c16")
    with h5py.File(tmp_path / "in.h5", "w") as f:
        f.create_dataset("group/data", data=data, chunks=(8, 8, 6))
        f["flags"] = flags
        f["cplx"] = cplx
        f["be"] = np.arange(12, dtype=">i4").reshape(3, 4)
    run("import", tmp_path / "in.h5", store, "data", "--h5path", "/group/data", "--chunks", "16,16,4")
    run("import", tmp_path / "in.h5", store, "flags", "--h5path", "flags")
    run("import", tmp_path / "in.h5", store, "cplx", "--h5path", "cplx")
    run("import", tmp_path / "in.h5", store, "be", "--h5path", "be")  # converted on read
    out = tmp_path / "out.h5"
    for name in ["data", "flags", "cplx", "be"]:
        run("export", store, name, out, "-q")
    run("export", store, "data", out, "--h5path", "/copies/data2")
    with h5py.File(out) as f:
        assert f["data"].dtype == data.dtype and f["data"][...].tobytes() == data.tobytes()
        assert (f["copies/data2"][...] == data).all()
        assert f["flags"].dtype == np.bool_ and (f["flags"][...] == flags).all()
        assert f["cplx"].dtype == cplx.dtype and (f["cplx"][...] == cplx).all()
        assert (f["be"][...] == np.arange(12).reshape(3, 4)).all()
    run("export", store, "data", out, code=1)  # exists
    run("export", store, "data", out, "--force")
    with h5py.File(tmp_path / "one.h5", "w") as f:
        f["only"] = np.arange(3.0)
    run("import", tmp_path / "one.h5", store, "only")  # the file's only dataset
    assert (export_array(tmp_path, store, "only") == np.arange(3.0)).all()


# ---------------------------------------------------------------- cp


def test_cp_rechunk_and_sparse(tmp_path, store):
    a = np.random.default_rng(3).random((30, 20, 10)).astype("<f4")
    import_array(tmp_path, store, "a", a, chunks=(8, 8, 8))
    other = f"hdf5://{tmp_path}/other"
    run("cp", store, "a", other, "b", "--chunks", "7,9,10")
    info = json.loads(run("info", other, "b", "--json").stdout)
    assert info["chunk_size"] == [7, 9, 10]
    assert export_array(tmp_path, other, "b").tobytes() == a.tobytes()
    run("cp", store, "a", other)  # same name, same chunks
    assert json.loads(run("info", other, "a", "--json").stdout)["chunk_size"] == [8, 8, 8]
    run("cp", store, "a", other, code=1)  # exists
    run("cp", store, "a", other, "--force", "--engine", "cpu")
    run("create", store, "sparse", "--shape", "50,50", "--chunks", "10,10", "--fillvalue", "2.5")
    run("cp", store, "sparse", other)
    info = json.loads(run("info", other, "sparse", "--json").stdout)
    assert info["stored_chunks"] == 0 and info["fillvalue"] == "2.5"
    run("cp", store, "a", store, code=2)  # onto itself
    rel = os.path.relpath(tmp_path / "store")
    run("cp", store, "a", f"hdf5://{rel}", "--force", code=2)  # the same, spelt differently
    assert export_array(tmp_path, store, "a").tobytes() == a.tobytes()


def test_cp_hdf5_ceph_s3_hdf5(tmp_path, store):
    ceph, s3 = ceph_store(), s3_store()
    a = np.random.default_rng(4).random((40, 33, 17)).astype("<f8")
    name = uid("chain")
    import_array(tmp_path, store, name, a, chunks=(16, 16, 16))
    chain = [store] + [s for s in (ceph, s3) if s] + [f"hdf5://{tmp_path}/back"]
    try:
        for src, dst in zip(chain, chain[1:]):
            run("cp", src, name, dst, "-q")
            info = json.loads(run("info", dst, name, "--json").stdout)
            assert info["shape"] == [40, 33, 17] and info["stored_chunks"] == 18
        b = export_array(tmp_path, chain[-1], name)
        assert b.dtype == a.dtype and b.tobytes() == a.tobytes()
        # Every stored chunk file of the last copy holds the same bytes.
        src_dir, dst_dir = Path(f"{tmp_path}/store/{name}"), Path(f"{tmp_path}/back/{name}")
        for chunk in sorted(src_dir.glob("chunk_*.h5")):
            with h5py.File(chunk) as f, h5py.File(dst_dir / chunk.name) as g:
                assert f["data"][...].tobytes() == g["data"][...].tobytes()
    finally:
        for s in chain[1:-1]:
            run("rm", s, name, "--force")
    if not (ceph and s3):
        pytest.skip("ceph and/or s3 not configured: copied over hdf5 only")


def test_zarr_formats_on_create_import_cp(tmp_path, store):
    ceph, s3 = ceph_store(), s3_store()
    a = np.random.default_rng(5).integers(0, 999, (30, 20)).astype("<u2")
    name = uid("zarr")
    stores = [s for s in (ceph, s3) if s]
    try:
        for obj_store in stores:
            path = tmp_path / f"{name}.npy"
            np.save(path, a)
            run("import", path, obj_store, name, "-q", "--chunks", "16,8", "--format", "zarr2",
                "--compression", "blosc-lz4")
            info = json.loads(run("info", obj_store, name, "--json").stdout)
            assert info["format"] == "zarr2" and info["stored_chunks"] == 6, info
            assert name in info["location"], info
            assert "location:" in run("info", obj_store, name).stdout
            run("cp", obj_store, name, store, f"{name}-back", "-q", "-f")  # hdf5 holds dosna only
            assert (export_array(tmp_path, store, f"{name}-back") == a).all()
            run("create", obj_store, f"{name}-e", "--shape", "8,8", "--chunks", "4,4",
                "--format", "zarr3", "--compression", "zstd", "--compression-level", "5")
            assert json.loads(run("info", obj_store, f"{name}-e", "--json").stdout)["format"] \
                == "zarr3"
            run("rm", obj_store, f"{name}-e")
        # The original's layout cannot hold compressed chunks: refused, nothing created.
        run("create", store, "c", "--shape", "4", "--compression", "zstd", code=2)
        run("cp", store, f"{name}-back", store, "c2", "--format", "zarr3", code=2)
        assert [d["name"] for d in json.loads(run("ls", store, "--json").stdout)] == \
            [f"{name}-back"]
    finally:
        for s in stores:
            run("rm", s, name, "--force")
    if not stores:
        pytest.skip("ceph and s3 not configured")


# ---------------------------------------------------------------- slice


def test_slice_text(tmp_path, store):
    a = np.arange(4 * 5 * 6, dtype="<i4").reshape(4, 5, 6)
    import_array(tmp_path, store, "a", a, chunks=(3, 3, 3))
    assert run("slice", store, "a", "2,:,:").stdout.strip() == str(a[2, :, :])
    assert run("slice", store, "a", "1,2,3").stdout.strip() == str(a[1, 2, 3])
    assert run("slice", store, "a", "...,-1").stdout.strip() == str(a[..., -1])
    assert run("slice", store, "a", "::2,1:4,::-3").stdout.strip() == str(a[::2, 1:4, ::-3])
    f = np.array([[0.5, 1.0, -2.25], [3.0, 4.125, 5.0]], dtype="<f8")
    import_array(tmp_path, store, "f", f)
    assert run("slice", store, "f", ":").stdout.strip() == str(f)
    b = np.array([True, False, True])
    import_array(tmp_path, store, "b", b)
    assert run("slice", store, "b", ":").stdout.strip() == str(b)
    run("slice", store, "a", "9,:,:", code=2)
    run("slice", store, "a", "1,:,:,:,:", code=2)
    run("slice", store, "a", "x", code=2)


def numpy_print_cases():
    rng = np.random.default_rng(6)
    return {
        "f32": np.array([0.1, 0.25, 3.0], "<f4"),
        "nonfinite": np.array([np.nan, 1.5, -np.inf], "<f8"),
        "sci": np.array([1e10, 2.5, 3], "<f8"),
        "sci_small": np.array([1.5e-7, 2.25e3], "<f8"),
        "rand32": rng.random((3, 4)).astype("<f4"),
        "wrapped": rng.random((3, 30)),
        "summarised": rng.random((20, 20, 20)),
        "long": np.arange(100, dtype="<i2"),
        "ints4d": np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5),
        "bools": rng.random(40) > 0.5,
        "u64": np.array([2 ** 64 - 1, 3], "<u8"),
        "cube": rng.integers(-1000, 1000, (7, 30, 12)),
    }


@pytest.mark.parametrize("case", sorted(numpy_print_cases()))
def test_slice_text_matches_numpy_print(tmp_path, store, case):
    a = numpy_print_cases()[case]
    import_array(tmp_path, store, "a", a, chunks=tuple(max(1, n // 2) for n in a.shape))
    assert run("slice", store, "a", "...").stdout.rstrip("\n") == str(a)


def read_png(path):
    """A minimal PNG decoder (8-bit greyscale, non-interlaced)."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert (depth, color, interlace) == (8, 0, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows, prev = [], bytearray(width)
    for r in range(height):
        line = raw[r * (width + 1):(r + 1) * (width + 1)]
        ftype, cur = line[0], bytearray(line[1:])
        for i in range(width):
            left = cur[i - 1] if i else 0
            up, ul = prev[i], (prev[i - 1] if i else 0)
            if ftype == 1:
                cur[i] = (cur[i] + left) & 255
            elif ftype == 2:
                cur[i] = (cur[i] + up) & 255
            elif ftype == 3:
                cur[i] = (cur[i] + (left + up) // 2) & 255
            elif ftype == 4:
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
                cur[i] = (cur[i] + pred) & 255
        rows.append(bytes(cur))
        prev = cur
    return np.frombuffer(b"".join(rows), np.uint8).reshape(height, width)


def grey(values, lo, hi):
    return np.clip(np.round((values.astype(np.float64) - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)


def test_slice_png(tmp_path, store):
    rng = np.random.default_rng(5)
    a = (rng.random((20, 64, 48)) * 1000 - 300).astype("<f4")
    import_array(tmp_path, store, "a", a, chunks=(8, 16, 16))
    png = tmp_path / "s.png"
    run("slice", store, "a", "5,:,:", "--png", png)
    sel = a[5, :, :]
    assert (read_png(png) == grey(sel, sel.min(), sel.max())).all()
    run("slice", store, "a", ":,10,::2", "--png", png, "--vmin", "0", "--vmax", "500")
    assert (read_png(png) == grey(a[:, 10, ::2], 0, 500)).all()
    i = np.arange(12, dtype="<u2").reshape(3, 4)
    import_array(tmp_path, store, "i", i)
    run("slice", store, "i", ":,:", "--png", png, "-q")
    assert (read_png(png) == grey(i, 0, 11)).all()
    run("slice", store, "a", ":,:,:", "--png", png, code=2)
    run("slice", store, "a", "1,:,:", "--png", tmp_path / "no" / "dir.png", code=3)


# ---------------------------------------------------------------- progress


def run_with_pty_stderr(*args):
    master, slave = pty.openpty()
    p = subprocess.run([DOSNA, *map(str, args)], stdout=subprocess.PIPE, stderr=slave,
                       timeout=600)
    os.close(slave)
    out = b""
    try:
        while True:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(master)
    return p.returncode, out.decode(errors="replace")


def test_progress_only_on_a_terminal(tmp_path, store):
    np.save(tmp_path / "p.npy", np.zeros((64, 64, 64), "<f4"))
    rc, err = run_with_pty_stderr("import", tmp_path / "p.npy", store, "p", "--chunks", "16,16,16")
    assert rc == 0 and "ETA" in err and "1.0 MiB" in err and "/s" in err
    rc, err = run_with_pty_stderr("cp", store, "p", store, "q", "--quiet")
    assert rc == 0 and err == ""
    p = run("export", store, "p", tmp_path / "p2.npy")
    assert p.stderr == "" and p.stdout == ""
    stats = json.loads(run("cp", store, "p", store, "r", "--stats").stdout)
    assert stats["op"] == "cp" and stats["bytes"] == 64 ** 3 * 4 and stats["seconds"] > 0


# ---------------------------------------------------------------- errors


def test_errors_and_exit_codes(tmp_path, store):
    run("create", store, "d", "--shape", "4,4", "--chunks", "2,2")
    (tmp_path / "junk.npy").write_bytes(b"not a numpy file at all")
    np.save(tmp_path / "be.npy", np.arange(4, dtype=">f4"))
    np.save(tmp_path / "rec.npy", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f4")]))
    with h5py.File(tmp_path / "two.h5", "w") as f:
        f["a"] = np.arange(3)
        f["g/b"] = np.arange(2)
        f["s"] = np.array([b"text"])
    cases = [
        (["frobnicate"], 2, "frobnicate"),
        (["ls"], 2, "STORE"),
        (["ls", "nostore"], 2, "not a URI"),
        (["ls", "zip://x"], 2, "unknown backend 'zip'"),
        (["ls", store, "--opt", "bogus=1"], 2, "bogus"),
        (["ls", store, "--engine", "warp"], 2, "warp"),
        (["create", store, "d", "--shape", "4,4"], 1, "d"),
        (["create", store, "z", "--shape", "4,a"], 2, "--shape"),
        (["create", store, "z", "--shape", "4", "--dtype", "str"], 2, "str"),
        (["info", store, "missing"], 3, "missing"),
        (["ls", f"hdf5://{tmp_path}/nowhere"], 3, "nowhere"),
        (["import", tmp_path / "absent.npy", store, "x"], 3, "absent.npy"),
        (["import", tmp_path / "junk.npy", store, "x"], 2, "junk.npy"),
        (["import", tmp_path / "be.npy", store, "x"], 2, ">f4"),
        (["import", tmp_path / "rec.npy", store, "x"], 2, "structured"),
        (["import", tmp_path / "a.txt", store, "x"], 2, "a.txt"),
        (["import", tmp_path / "two.h5", store, "x"], 2, "--h5path"),
        (["import", tmp_path / "two.h5", store, "x", "--h5path", "/nope"], 3, "/nope"),
        (["import", tmp_path / "two.h5", store, "x", "--h5path", "/g"], 2, "not a dataset"),
        (["import", tmp_path / "two.h5", store, "x", "--h5path", "s"], 2, "type"),
        (["import", tmp_path / "junk.npy", store, "x", "--h5path", "a"], 2, "--h5path"),
        (["export", store, "d", tmp_path / "x.csv"], 2, "x.csv"),
        (["export", store, "d", "/sys/dosna-test.npy"], 4, "/sys/dosna-test.npy"),
        (["export", store, "d", tmp_path / "no" / "x.npy"], 3, "x.npy"),
        (["slice", store, "d", "0,0,0"], 2, "d"),
        (["cp", store, "missing", store, "y"], 3, "missing"),
    ]
    for args, code, needle in cases:
        p = run(*args, code=code)
        assert needle in p.stderr, (args, p.stderr)
    # A damaged chunk is an I/O error (exit 5) naming the dataset.
    import_array(tmp_path, store, "bad", np.ones((4, 4), "<f4"), chunks=(2, 2))
    chunk = tmp_path / "store" / "bad" / "chunk_0_0.h5"
    chunk.write_bytes(b"garbage" * 10)
    p = run("export", store, "bad", tmp_path / "bad-out.npy", code=5)
    assert "bad" in p.stderr
    assert not (tmp_path / "bad-out.npy").exists()


def test_bench_passthrough():
    bench = Path(DOSNA).parent / "dosna-bench"
    if not bench.exists():
        p = run("bench", "--help", code=3)
        assert "dosna-bench" in p.stderr
        return
    direct = subprocess.run([bench, "--help"], capture_output=True, text=True)
    via = subprocess.run([DOSNA, "bench", "--help"], capture_output=True, text=True)
    assert via.returncode == direct.returncode and via.stdout == direct.stdout


def doc_blocks():
    text = (ROOT / "docs" / "cli.md").read_text()
    return [b.split("```", 1)[0] for b in text.split("```sh\n")[1:]]


def test_docs_examples_run(tmp_path):
    """The ```sh blocks of docs/cli.md run as written (services when set)."""
    env = dict(os.environ, PATH=f"{Path(DOSNA).parent}:/usr/bin:{os.environ.get('PATH', '')}")
    have_services = ceph_store() and s3_store()
    blocks = doc_blocks()
    assert len(blocks) == 2
    p = subprocess.run(["bash", "-euxo", "pipefail", "-c", blocks[0]], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "[128. 129. 130. 131.]]" in p.stdout and (tmp_path / "slice.png").exists()
    if not have_services:
        pytest.skip("ceph/s3 not configured: ran the hdf5 example only")
    s3_demo = s3_store().replace("s3://cli", "s3://demo")
    for store in (ceph_store(), s3_demo):  # left over by an interrupted run
        run("rm", store, "cube", "--force")
    try:
        # Fewer bench repetitions keep the suite short; the flags pass through.
        services = blocks[1].replace("--ops create_load,read_full", "--ops create_load --reps 1 --shape 64,64,64")
        p = subprocess.run(["bash", "-euxo", "pipefail", "-c", services], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        b = export_array(tmp_path, f"hdf5://{tmp_path}/stores/back", "cube")
        assert (b == np.arange(64 ** 3, dtype="f4").reshape(64, 64, 64)).all()
    finally:
        run("rm", ceph_store(), "cube", "--force")
        run("rm", s3_demo, "cube", "--force")


def test_s3_endpoint_url_with_a_query_is_refused():
    """A stray `?` in endpoint_url (or a pasted presigned URL) is a usage error
    naming it, quoting the URL only up to the query: exit 2, nothing sent."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="fakesecret")
    for url in ("http://127.0.0.1:1?", "http://127.0.0.1:1/?X-Amz-Signature=0123abcd"):
        p = run("ls", f"s3://cli?endpoint_url={url}", code=2, env=env)
        assert "endpoint_url" in p.stderr and "query" in p.stderr, p.stderr
        assert "0123abcd" not in p.stderr and "fakesecret" not in p.stderr, p.stderr


def test_service_errors(tmp_path):
    """Permission and connection failures of real services: exit 4 and 5."""
    ceph, s3 = ceph_store(), s3_store()
    if s3:
        env = dict(os.environ, AWS_SECRET_ACCESS_KEY="wrong", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        p = run("ls", s3, code=4, env=env)
        assert "403" in p.stderr and "wrong" not in p.stderr  # no secret in messages
        run("ls", "s3://cli?endpoint_url=http://127.0.0.1:1&max_retries=0", code=5)
    if ceph:
        conf = Path(os.environ["CEPH_CONF"]).read_text().splitlines()
        bad = tmp_path / "dead-mon.conf"
        bad.write_text("\n".join("mon host = 127.0.0.1:1" if l.strip().startswith("mon host") else l
                                 for l in conf) + "\n")
        pool = os.environ["DOSNA_CEPH_POOL"]
        p = run("ls", f"ceph://{pool}?conffile={bad}&timeout=2", code=5)
        assert "dead-mon.conf" in p.stderr
        run("ls", f"ceph://no-such-pool?conffile={os.environ['CEPH_CONF']}", code=3)
    if not (ceph and s3):
        pytest.skip("ceph and/or s3 not configured")


# ---------------------------------------------------------------- hostile names and stores


def ls_rows(store):
    return run("ls", store).stdout.splitlines()


def test_ls_escapes_control_characters_and_aligns_unicode(tmp_path, store):
    """Names another writer put in the store print escaped; wide ones align."""
    weird = "e\x1b[31mred\nline\x07"
    names = [weird, "naïve-日本語", "back\\slash", "plain"]
    for i, n in enumerate(names):  # put there by another writer, as DosNa may refuse them
        run("create", store, f"d{i}", "--shape", "4,4")
        os.rename(tmp_path / "store" / f"d{i}", tmp_path / "store" / n)
    out = run("ls", store).stdout
    assert "\x1b" not in out and "\x07" not in out
    lines = out.splitlines()
    assert len(lines) == 1 + len(names)  # the newline in a name made no extra line
    by_name = {l.split("  ")[0]: l for l in lines[1:]}
    assert "e\\x1b[31mred\\nline\\x07" in by_name
    # DosNa refuses both names (include/dosna/names.h), so they are listed
    # as broken; a backslash is escaped too, so no two names look alike.
    assert "back\\\\slash" in by_name
    assert "<broken: dataset name" in by_name["e\\x1b[31mred\\nline\\x07"], out
    # Every row's SHAPE column starts at the same terminal column (wcswidth,
    # not bytes): "日本語" is 9 bytes but 6 columns.
    import unicodedata

    def columns(text):
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)

    starts = {columns(l[: l.index("(4, 4)")]) for l in lines[1:] if "(4, 4)" in l}
    assert len(starts) == 1 and len([l for l in lines if "(4, 4)" in l]) == 2, out
    assert starts == {columns(lines[0][: lines[0].index("SHAPE")])}, out
    # Error messages quoting a name escape it as well.
    p = run("rm", store, weird + "x", code=2)
    assert "\x1b" not in p.stderr and "'e\\x1b[31mred\\nline\\x07x'" in p.stderr.lower(), p.stderr
    # JSON keeps the exact name (JSON escapes it itself).
    assert weird in [d["name"] for d in json.loads(run("ls", store, "--json").stdout)]
    # DosNa never deletes under a name it refuses; the entry stays listed.
    run("rm", store, weird, code=2)
    assert len(ls_rows(store)) == len(names) + 1


def test_broken_dataset_is_listed_and_removable(tmp_path, store):
    """One dataset with corrupt metadata: ls lists the others and marks it; rm removes it."""
    run("create", store, "good", "--shape", "4")
    run("create", store, "broken", "--shape", "4")
    run("create", store, "zlast", "--shape", "4")
    (tmp_path / "store" / "broken" / "dataset.h5").write_bytes(b"garbage" * 20)
    rows = ls_rows(store)
    assert [r.split()[0] for r in rows] == ["NAME", "broken", "good", "zlast"], rows
    assert "<broken: " in rows[1] and "dataset.h5" in rows[1], rows
    listed = json.loads(run("ls", store, "--json").stdout)
    assert [d["name"] for d in listed] == ["broken", "good", "zlast"]
    assert "broken" in listed[0] and "shape" not in listed[0]
    run("rm", store, "broken")
    assert [r.split()[0] for r in ls_rows(store)] == ["NAME", "good", "zlast"]
    assert not (tmp_path / "store" / "broken").exists()
    # --force on a broken destination replaces it too.
    run("create", store, "broken", "--shape", "4")
    (tmp_path / "store" / "broken" / "dataset.h5").write_bytes(b"garbage" * 20)
    run("cp", store, "good", store, "broken", "--force")
    assert "<broken" not in run("ls", store).stdout


def big_source(tmp_path, store, name="src"):
    a = np.arange(128 * 128 * 128, dtype="<f4").reshape(128, 128, 128)
    import_array(tmp_path, store, name, a, chunks=(8, 16, 16))  # 2048 chunks
    return a


def test_cp_killed_half_way_is_shown_incomplete(tmp_path, store):
    """SIGKILL during cp: the destination is listed as incomplete, not as a copy."""
    import signal
    import time

    big_source(tmp_path, store)
    dst_dir = tmp_path / "other" / "dst"
    p = subprocess.Popen([DOSNA, "cp", store, "src", f"hdf5://{tmp_path}/other", "dst", "-q",
                          "--engine", "cpu"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while p.poll() is None and time.monotonic() < deadline:
        if dst_dir.is_dir() and any(e.name.startswith("chunk_") for e in os.scandir(dst_dir)):
            break
    os.kill(p.pid, signal.SIGSTOP)  # no more chunks while we look
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL, "cp finished before it could be killed"
    other = f"hdf5://{tmp_path}/other"
    rows = ls_rows(other)
    assert len(rows) == 2 and rows[1].split()[0] == "dst", rows  # the mark itself is hidden
    assert rows[1].endswith(" incomplete"), rows
    assert json.loads(run("ls", other, "--json").stdout)[0]["incomplete"] is True
    assert "incomplete:    yes" in run("info", other, "dst").stdout
    # Copying again (--force) makes it complete; rm would also drop the mark.
    run("cp", store, "src", other, "dst", "--force", "-q")
    rows = ls_rows(other)
    assert len(rows) == 2 and not rows[1].endswith("incomplete"), rows
    assert json.loads(run("info", other, "dst", "--json").stdout)["incomplete"] is False
    assert sorted(os.listdir(tmp_path / "other")) == ["dst"]


def test_cp_failing_half_way_leaves_no_destination(tmp_path, store):
    """A source chunk that cannot be read mid-copy: cp fails and removes what it wrote."""
    big_source(tmp_path, store)
    (tmp_path / "store" / "src" / "chunk_9_3_5.h5").write_bytes(b"garbage" * 10)
    other = f"hdf5://{tmp_path}/other"
    for extra in ([], ["--chunks", "16,16,16"]):  # stored-chunk copy and re-chunking copy
        p = run("cp", store, "src", other, "dst", "-q", "--engine", "cpu", *extra, code=5)
        assert "src" in p.stderr
        assert ls_rows(other) == [], ls_rows(other)
        assert os.listdir(tmp_path / "other") == []


# ---------------------------------------------------------------- exit codes (issue 18)


def test_exit_codes_follow_the_documented_classes(tmp_path, store):
    run("create", store, "d", "--shape", "4")
    # A missing file is "not found" (3), also a ceph conf file.
    p = run("ls", f"ceph://pool?conffile={tmp_path}/absent.conf", code=3)
    assert "absent.conf" in p.stderr
    # A damaged input file is bad input (2), truncated or garbled alike.
    with h5py.File(tmp_path / "ok.h5", "w") as f:
        f["a"] = np.arange(100000.0)
    data = (tmp_path / "ok.h5").read_bytes()
    (tmp_path / "truncated.h5").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbled.h5").write_bytes(b"garbage" * 100)
    for bad in ("truncated.h5", "garbled.h5"):
        p = run("import", tmp_path / bad, store, "x", code=2)
        assert bad in p.stderr
    # A name too long for the store is an invalid argument, named once.
    long = "n" * 256
    p = run("create", store, long, "--shape", "4", code=2)
    assert p.stderr.count("n" * 80) == 1 and "at most 255" in p.stderr, p.stderr
    # A name starting with '-' after '--', before the options.
    run("create", store, "--", "-dash", "--shape", "4,4", "--chunks=2,2")
    info = json.loads(run("info", store, "--", "-dash", "--json").stdout)
    assert info["shape"] == [4, 4] and info["chunk_size"] == [2, 2]
    assert "[0. 0.]" in run("slice", store, "--", "-dash", "-1,:2").stdout
    run("rm", store, "--", "-dash")


@pytest.mark.parametrize("uri, key", [
    ("hdf5://{tmp}/store?directory=/etc", "directory"),
    ("hdf5://{tmp}/store?durable=1&durable=0", "durable"),
    ("hdf5://{tmp}/store?bogus=1", "bogus"),
    ("ram://r?name=other", "name"),
    ("ram://r?bogus=1", "bogus"),
    ("ceph://pool?conffile=/x&conffile=/y", "conffile"),
    ("ceph://pool?bogus=1", "bogus"),
    ("s3://label?endpoint_url=http://127.0.0.1:1&endpoint_url=http://127.0.0.1:2", "endpoint_url"),
    ("s3://label?bogus=1", "bogus"),
])
def test_uri_query_keys_unknown_or_twice_are_refused(tmp_path, store, uri, key):
    run("create", store, "d", "--shape", "4")
    p = run("ls", uri.format(tmp=tmp_path), code=2)
    assert key in p.stderr, p.stderr


def test_opt_given_twice_is_refused(store):
    run("create", store, "d", "--shape", "4")
    p = run("ls", store, "--opt", "durable=1", "--opt", "durable=0", code=2)
    assert "'durable'" in p.stderr
    p = run("ls", store, "--engine", "threads", "--engine-opt", "njobs=2", "--engine-opt", "njobs=3",
            code=2)
    assert "'njobs'" in p.stderr
