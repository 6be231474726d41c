#!/usr/bin/python3
"""Turns dosna-convolution's result.h5 into timings.png.

usage: plot_timings.py RESULT_H5 [-o timings.png] [--key BACKEND/NPROC ...]

One row of panels per run (dataset '<backend>/<mpi_size>' in the file), one
panel per test kind (axis2_value: DATA, 3D, 1D, 3D-exact): time against chunk
size, one line per data size, the median over the ntest repetitions with the
min..max range as a band. Chunk sizes larger than the data size (NaN) are
left out.
"""
import argparse
import sys

import h5py
import matplotlib
import numpy as np

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def runs(f):
    found = []
    f.visititems(lambda name, obj: found.append(name)
                 if isinstance(obj, h5py.Dataset) and 'axis2_value' in obj.attrs else None)
    return sorted(found)


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('result')
    p.add_argument('-o', '--output', default='timings.png')
    p.add_argument('--key', action='append', help='dataset(s) to plot (default: all runs)')
    a = p.parse_args()
    with h5py.File(a.result, 'r') as f:
        keys = a.key or runs(f)
        if not keys:
            sys.exit(f'plot_timings: no timing datasets in {a.result}')
        tests = [text(t) for t in f[keys[0]].attrs['axis2_value']]
        fig, axes = plt.subplots(len(keys), len(tests), squeeze=False, sharex=True,
                                 figsize=(4 * len(tests), 3.2 * len(keys)))
        for r, key in enumerate(keys):
            d = f[key]
            t = d[...]
            sizes, chunks = d.attrs['axis0_value'], d.attrs['axis1_value']
            names = [text(x) for x in d.attrs['axis2_value']]
            for c, name in enumerate(tests):
                ax = axes[r][c]
                if name not in names:
                    ax.set_visible(False)
                    continue
                k = names.index(name)
                for i, n in enumerate(sizes):
                    vals = t[i, :, k, :]
                    ok = ~np.all(np.isnan(vals), axis=1)
                    if not ok.any():
                        continue
                    x = np.asarray(chunks)[ok]
                    med = np.nanmedian(vals[ok], axis=1)
                    line, = ax.plot(x, med, marker='o', label=f'N={n}')
                    ax.fill_between(x, np.nanmin(vals[ok], axis=1), np.nanmax(vals[ok], axis=1),
                                    color=line.get_color(), alpha=0.2)
                ax.set_title(f'{name} ({key})')
                ax.set_xlabel('chunk size')
                ax.set_ylabel('time (s)')
                ax.set_yscale('log')
                ax.grid(True, which='both', alpha=0.3)
                ax.legend(fontsize='small')
        fig.tight_layout()
        fig.savefig(a.output, dpi=100)
    print(f'plot_timings: wrote {a.output}')


if __name__ == '__main__':
    main()
