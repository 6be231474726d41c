#!/usr/bin/python3
"""Compares dosna-convolution's filters with scipy.ndimage (mode 'reflect',
truncate 4.0) to 1e-5 relative, and checks result.h5's layout.

usage: check_convolution.py BUILD_BIN_DIR WORK_DIR [backend engine [connection [key=value ...]]]

1. dosna-gaussian-filter on random float32 volumes: gaussian_filter1d along
   each axis (several sigmas/truncates) and gaussian_filter, vs scipy.
2. dosna-convolution --save-volumes on 40^3 in 16^3 chunks (edge chunks of
   8) and 40^3 in 12^3 chunks: 3D-exact == gaussian_filter(whole volume);
   3D and 1D == gaussian_filter of every chunk on its own.
3. result.h5: dataset '<backend>/1', shape, attributes, the dataset of an
   earlier run kept (append); a second run with another ntest fails with a
   shape error and leaves the file intact.

usage: check_convolution.py --volumes OUT_DIR N C NPROC [SIGMA]
   checks only step 2's volumes and images of a job that ran elsewhere
   (--save-volumes --out OUT_DIR, NPROC ranks; scripts/tests.d/hosts.sh).
"""
import os
import subprocess
import sys

import h5py
import numpy as np
from scipy import ndimage

RTOL = 1e-5
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def close(got, want, what):
    err = np.max(np.abs(got.astype(np.float64) - want) / np.maximum(np.abs(want), 1e-30))
    check(got.shape == want.shape and err <= RTOL, f"{what}: max rel err {err:.2e}")


def per_chunk(vol, c, sigma):
    out = np.empty_like(vol)
    n = vol.shape[0]
    for z in range(0, n, c):
        for y in range(0, n, c):
            for x in range(0, n, c):
                s = np.s_[z:z + c, y:y + c, x:x + c]
                out[s] = ndimage.gaussian_filter(vol[s], sigma, mode='reflect', truncate=4.0)
    return out


# The saved input and results of a run on N^3 in C^3 chunks by NPROC ranks:
# 3D-exact == gaussian_filter(whole volume), 3D and 1D == per chunk, images.
def check_volumes(out, n, c, sigma, nproc):
    raw = lambda kind: np.fromfile(os.path.join(out, f'{kind}-{n}-{c}.f32'),
                                   dtype=np.float32).reshape(n, n, n)
    vol = raw('data')
    whole = ndimage.gaussian_filter(vol, sigma, mode='reflect', truncate=4.0)
    close(raw('conv3dexact'), whole.astype(np.float64),
          f'3D-exact (N={n} C={c}) == gaussian_filter(whole volume)')
    check(np.max(np.abs(raw('conv3d') - whole)) > 1e-3, f'3D (N={n} C={c}) shows chunk seams')
    want = per_chunk(vol, c, sigma).astype(np.float64)
    close(raw('conv3d'), want, f'3D (N={n} C={c}) == per-chunk gaussian_filter')
    close(raw('conv3x1d'), want, f'1D (N={n} C={c}) == per-chunk gaussian_filter')
    for kind in ('conv3d', 'conv3x1d', 'conv3dexact'):
        check(os.path.getsize(os.path.join(out, f'{kind}_{nproc}-{n}-{c}.png')) > 0,
              f'{kind} PNG N={n} C={c}')


def main():
    if sys.argv[1:2] == ['--volumes']:
        out, n, c, nproc = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        check_volumes(out, n, c, float(sys.argv[6]) if len(sys.argv) > 6 else 1.5, nproc)
        print(f'{len(failures)} failure(s)')
        return 1 if failures else 0
    bindir, work = sys.argv[1], sys.argv[2]
    backend = sys.argv[3] if len(sys.argv) > 3 else 'ram'
    engine = sys.argv[4] if len(sys.argv) > 4 else 'cpu'
    connection = sys.argv[5] if len(sys.argv) > 5 else os.path.join(work, 'store')
    options = sys.argv[6:]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)

    # 1. the filters alone
    tool = os.path.join(bindir, 'dosna-gaussian-filter')
    for shape in [(23, 17, 31), (3, 40, 5)]:
        a = rng.random(shape, dtype=np.float32) * 10 - 3
        src, dst = os.path.join(work, 'in.f32'), os.path.join(work, 'out.f32')
        a.tofile(src)
        for sigma, truncate in [(1.5, 4.0), (0.7, 4.0), (2.3, 3.0), (4.0, 4.0)]:
            for axis in ['0', '1', '2', 'all']:
                subprocess.run([tool, src, dst, str(sigma), axis, str(truncate)] +
                               [str(d) for d in shape], check=True)
                got = np.fromfile(dst, dtype=np.float32).reshape(shape)
                if axis == 'all':
                    want = ndimage.gaussian_filter(a, sigma, mode='reflect', truncate=truncate)
                else:
                    want = ndimage.gaussian_filter1d(a, sigma, axis=int(axis), mode='reflect',
                                                     truncate=truncate)
                check(want.dtype == np.float32, 'scipy keeps float32')
                close(got, want.astype(np.float64), f'filter shape={shape} sigma={sigma} '
                      f'truncate={truncate} axis={axis}')

    # 2. the job's three modes
    out = os.path.join(work, 'job')
    sigma = 1.5
    os.makedirs(out, exist_ok=True)
    with h5py.File(os.path.join(out, 'result.h5'), 'w') as f:
        f['other/7'] = np.array([1.0, 2.0], dtype=np.float32)
    job = [os.path.join(bindir, 'dosna-convolution'), '--backend', backend, '--engine', engine,
           '--connection', connection, '--out', out, '--data-sizes', '40', '--chunk-sizes', '16',
           '12', '64', '--sigma', str(sigma), '--ntest', '2']
    if options:
        job += ['--connection-options'] + options
    job += ['--save-volumes']
    run = subprocess.run(job, capture_output=True, text=True)
    print(run.stdout, end='')
    if run.returncode != 0:
        print(run.stderr, file=sys.stderr)
        check(False, f'job run (exit {run.returncode})')
        return 1
    for c in (16, 12):
        check_volumes(out, 40, c, sigma, 1)

    # 3. result.h5
    path = os.path.join(out, 'result.h5')
    key = f'{backend}/1'
    with h5py.File(path, 'r') as f:
        d = f[key]
        check(d.shape == (1, 3, 4, 2) and d.dtype == np.float32, f'{key} shape {d.shape} {d.dtype}')
        a = d.attrs
        check([a[f'axis{i}_label'] for i in range(4)] ==
              ['Data Size', 'Chunk Size', 'Tests', '# Tests'], 'axis labels')
        check(list(a['axis0_value']) == [40] and list(a['axis1_value']) == [16, 12, 64],
              'axis0/1 values')
        names = [v.decode() if isinstance(v, bytes) else v for v in a['axis2_value']]
        check(names == ['DATA', '3D', '1D', '3D-exact'], f'axis2_value {names}')
        check(list(a['axis3_value']) == [0, 1], 'axis3_value')
        t = d[...]
        check(np.all(np.isfinite(t[0, :2])) and np.all(t[0, :2] >= 0), 'timings filled')
        check(np.all(np.isnan(t[0, 2])), 'chunk size > N left NaN')
    bad = subprocess.run([a if a != '2' else '3' for a in job[:-1]], capture_output=True, text=True)
    check(bad.returncode != 0 and 'shape' in bad.stderr, f'wrong shape rejected: {bad.stderr.strip()}')
    with h5py.File(path, 'r') as f:
        check(f[key].shape == (1, 3, 4, 2), 'file intact after the rejected run')
    with h5py.File(path, 'r') as f:
        check('other/7' in f and f['other/7'][...].tolist() == [1.0, 2.0],
              "another run's dataset kept (append)")

    print(f'{len(failures)} failure(s)')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
