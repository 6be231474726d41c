"""The `dosna serve` page in a real browser: Debian's headless chromium driven
by puppeteer-core (tests/viewer/browser_test.js). Opens a deep link, reads the
value under the cursor, moves the slider by arrow key and by dragging, checks
the picture changes and every readout equals the stored data; saves
docs/viewer.png. Run by scripts/tests.d/viewer.sh, which installs
puppeteer-core first (scripts/npm-deps.sh tests/viewer)."""
import json
import re
import subprocess
from pathlib import Path

import numpy as np

from test_viewer_api import Server, import_array

ROOT = Path(__file__).resolve().parents[2]


def test_page_in_headless_chromium(tmp_path):
    z, y, x = np.mgrid[0:8, 0:120, 0:160]
    vol = (np.sin(x / 9.0 + z) * np.cos(y / 13.0) * 100 + z * 1000).astype("<f4")
    store = f"hdf5://{tmp_path}/store"
    import_array(tmp_path, store, "vol", vol, chunks=(4, 32, 32))
    (tmp_path / "store" / "vol" / "chunk_0_1_2.h5").unlink()
    vol[0:4, 32:64, 64:96] = 0
    s = Server(store)
    try:
        p = subprocess.run(["node", str(ROOT / "tests/viewer/browser_test.js"),
                            s.url + "/?dataset=vol&axis=0&index=3", str(ROOT / "docs/viewer.png")],
                           capture_output=True, text=True, timeout=180)
    finally:
        s.stop()
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert "pageerror" not in out, out["pageerror"]
    assert out["first"]["index"] == 3 and out["first"]["axis"] == 0
    assert out["key"]["index"] == 4 and out["drag"]["index"] == 0
    assert "index=0" in out["drag"]["url"] and "dataset=vol" in out["drag"]["url"]
    pictures = {out[k]["picture"] for k in ("first", "key", "drag")}
    assert len(pictures) == 3, "the picture did not change with the index"
    readouts = [r for k in ("first", "key", "drag") for r in out[k]["readouts"]]
    assert len(readouts) == 5
    for r in readouts:
        m = re.fullmatch(r"\[(\d+), (\d+), (\d+)\] = (\S+)", r["text"])
        assert m, r
        pos = tuple(int(v) for v in m.groups()[:3])
        assert float(m.group(4)) == np.float32(vol[pos]).item() or \
            abs(float(m.group(4)) - vol[pos]) <= 1e-5 * max(1, abs(vol[pos])), (r, vol[pos])
    assert [r["text"].split(" =")[0] for r in readouts][:3] == ["[3, 0, 0]", "[3, 5, 7]",
                                                                 "[3, 20, 30]"]
    assert "15 of 20 chunks" not in out["chunkstat"] and "19 of 20 chunks" in out["chunkstat"]
    assert (ROOT / "docs/viewer.png").stat().st_size > 10000
