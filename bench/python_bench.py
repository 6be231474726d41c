#!/usr/bin/env python3
"""python_bench: DosNa through its Python module, printing the same JSON lines
as dosna-bench (op, backend, engine, shape, chunks, bytes, seconds, mb_per_s,
ops_per_s, us_per_op), one per operation; `seconds` is the median over
--reps. numpy's own copy of the same array is printed as the reference line
(backend "numpy"). Every result is checked against the reference array
outside the timed part; a mismatch exits 1.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_bench.py
"""

import argparse
import json
import sys
import time

import numpy as np

import dosna as dn


def line(op, backend, engine, shape, chunks, nbytes, seconds, ops):
    print(json.dumps({
        'op': op, 'backend': backend, 'engine': engine, 'shape': list(shape),
        'chunks': list(chunks) if chunks else None,
        'bytes': nbytes if nbytes else None, 'seconds': float('%.9g' % seconds),
        'mb_per_s': round(nbytes / seconds / 1e6, 1) if nbytes and seconds > 0 else None,
        'ops_per_s': round(ops / seconds, 1) if seconds > 0 else None,
        'us_per_op': float('%.4g' % (seconds / ops * 1e6)),
    }), flush=True)


CLOCK = time.perf_counter


def timed(fn, reps):
    times = []
    for _ in range(reps):
        t0 = CLOCK()
        fn()
        times.append(CLOCK() - t0)
    return float(np.median(times))


def check(ok, what):
    if not ok:
        print('python_bench: wrong result in ' + what, file=sys.stderr)
        sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--backend', default='ram')
    p.add_argument('--engine', default='cpu')
    p.add_argument('--shape', default='256,256,256')
    p.add_argument('--chunks', default='32,32,32;64,64,64', help='chunk shapes, ";"-separated')
    p.add_argument('--reps', type=int, default=5)
    p.add_argument('--boxes', type=int, default=200)
    p.add_argument('--box', type=int, default=24)
    p.add_argument('--elements', type=int, default=20000)
    p.add_argument('--opt', action='append', default=[], help='connection option key=value')
    p.add_argument('--clock', choices=['wall', 'cpu'], default='wall',
                   help='wall time (default) or this process\'s CPU time, which a '
                        'machine shared with other jobs inflates less (single-threaded ops only)')
    args = p.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == 'cpu' else time.perf_counter
    shape = tuple(int(x) for x in args.shape.split(','))
    options = dict(o.split('=', 1) for o in args.opt)

    rng = np.random.RandomState(42)
    ref = rng.rand(*shape).astype(np.float32)
    nbytes = ref.nbytes

    # Reference: numpy copying the same array (into a preallocated buffer, as
    # a read fills one) and the same boxes/elements from a numpy array.
    out = np.empty_like(ref)
    line('numpy_copy', 'numpy', '-', shape, None, nbytes,
         timed(lambda: np.copyto(out, ref), args.reps), 1)
    line('numpy_new_copy', 'numpy', '-', shape, None, nbytes, timed(lambda: ref.copy(), args.reps), 1)

    starts = [tuple(int(rng.randint(0, n - args.box + 1)) for n in shape)
              for _ in range(args.boxes)]
    boxes = [tuple(slice(s, s + args.box) for s in st) for st in starts]
    box_bytes = args.boxes * args.box ** len(shape) * ref.itemsize
    line('read_boxes', 'numpy', '-', shape, None, box_bytes,
         timed(lambda: [ref[b].copy() for b in boxes], args.reps), args.boxes)
    elements = [tuple(int(rng.randint(0, n)) for n in shape) for _ in range(args.elements)]
    line('read_element', 'numpy', '-', shape, None, 0,
         timed(lambda: [ref[e] for e in elements], args.reps), args.elements)

    for chunks_text in args.chunks.split(';'):
        chunks = tuple(int(x) for x in chunks_text.split(','))
        with dn.Connection('python-bench', backend=args.backend, engine=args.engine,
                           **options) as con:
            name = 'python-bench-{}'.format('x'.join(map(str, chunks)))
            if name in con:
                con.del_dataset(name)
            ds = con.create_dataset(name, data=ref, chunk_size=chunks)
            try:
                res = {}

                def read_full():
                    res['full'] = ds[...]
                line('read_full', args.backend, args.engine, shape, chunks, nbytes,
                     timed(read_full, args.reps), 1)
                check(np.array_equal(res['full'], ref), 'read_full')

                def read_boxes():
                    res['boxes'] = [ds[b] for b in boxes]
                line('read_boxes', args.backend, args.engine, shape, chunks, box_bytes,
                     timed(read_boxes, args.reps), args.boxes)
                check(all(np.array_equal(g, ref[b]) for g, b in zip(res['boxes'], boxes)),
                      'read_boxes')

                def read_element():
                    res['el'] = [ds[e] for e in elements]
                line('read_element', args.backend, args.engine, shape, chunks, 0,
                     timed(read_element, args.reps), args.elements)
                check(all(g == ref[e] for g, e in zip(res['el'], elements)), 'read_element')
            finally:
                con.del_dataset(name)


if __name__ == '__main__':
    main()
