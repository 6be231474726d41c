#!/usr/bin/python3
"""The boto3 reference lines for the s3 benchmark (run with Debian's python3).

Does what the original DosNa's s3 backend does (one boto3 request at a time:
create_bucket + put_object of dataset_root, then put_object / get_object of
every chunk in turn), and what a user would write by hand (the same requests
from a pool of --threads boto3 worker threads). The data and layout match
dosna-bench's create_load and read_full: a --shape array of --dtype random
values in --chunks chunks, stored as FORMAT.md's S3 layout.

Prints one JSON line per (op, backend):
  {"op", "backend", "shape", "chunks", "bytes", "seconds", "mb_per_s",
   "cpu_seconds", "cpu_s_per_gb", "rgw_cpu_seconds"}
`seconds` is the median of --reps runs; cpu_seconds is this process's CPU
time (user + system) in that same run, rgw_cpu_seconds radosgw's, read from
/proc/PID/stat when --rgw-pid is given. Every read is checked against the
data written; a mismatch exits 1.

  boto3_reference.py [--endpoint URL] [--shape 256,256,256] [--chunks 64,64,64]
                     [--dtype '<f4'] [--threads 16] [--reps 3] [--rgw-pid PID]
                     [--modes seq,pool]
"""
import argparse
import concurrent.futures
import itertools
import json
import os
import statistics
import sys
import time

import boto3
import botocore.config
import numpy as np


def ints(text):
    return tuple(int(v) for v in text.split(','))


def proc_cpu(pid):
    """user + system CPU seconds of a process, or None."""
    if not pid:
        return None
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except OSError:
        return None


def self_cpu():
    t = os.times()
    return t.user + t.system


class Reference:
    def __init__(self, args):
        self.args = args
        self.shape = ints(args.shape)
        self.chunks = ints(args.chunks)
        self.dtype = np.dtype(args.dtype)
        self.grid = tuple(-(-s // c) for s, c in zip(self.shape, self.chunks))
        rng = np.random.default_rng(20240601)
        self.data = rng.random(self.shape).astype(self.dtype)
        self.indices = list(itertools.product(*(range(g) for g in self.grid)))
        self.shared = None
        self.session_config = botocore.config.Config(
            max_pool_connections=max(10, args.threads),
            retries={'max_attempts': 10, 'mode': 'standard'})
        self.count = 0

    def client(self):
        # One client, made once outside the timed part and shared by the
        # worker threads (boto3 clients are thread-safe; its connection pool
        # holds max_pool_connections sockets), as a user would write it.
        if self.shared is None:
            self.shared = boto3.session.Session().client(
                's3', endpoint_url=self.args.endpoint, config=self.session_config)
        return self.shared

    def slices(self, idx):
        return tuple(slice(i * c, min((i + 1) * c, s))
                     for i, c, s in zip(idx, self.chunks, self.shape))

    def chunk_bytes(self, idx):
        sl = self.slices(idx)
        block = self.data[sl]
        if block.shape != self.chunks:  # edge chunk: full chunk_size, fill 0
            full = np.zeros(self.chunks, dtype=self.dtype)
            full[tuple(slice(0, n) for n in block.shape)] = block
            block = full
        return np.ascontiguousarray(block).tobytes()

    def new_bucket(self):
        self.count += 1
        return 'boto3-ref-%d-%d' % (os.getpid(), self.count)

    def create(self, bucket):
        s3 = self.client()
        s3.create_bucket(Bucket=bucket)
        fmt = lambda v: '::'.join(map(str, v))
        s3.put_object(Bucket=bucket, Key='dataset_root', Body=b'DosNa Dataset', Metadata={
            'shape': fmt(self.shape), 'dtype': self.dtype.str, 'fillvalue': '0',
            'chunk-grid': fmt(self.grid), 'chunk-size': fmt(self.chunks)})

    def put_chunk(self, bucket, idx):
        self.client().put_object(Bucket=bucket, Key='.'.join(map(str, idx)),
                                 Body=self.chunk_bytes(idx))

    def get_chunk(self, bucket, idx, out):
        body = self.client().get_object(Bucket=bucket, Key='.'.join(map(str, idx)))['Body'].read()
        block = np.frombuffer(body, dtype=self.dtype).reshape(self.chunks)
        sl = self.slices(idx)
        out[sl] = block[tuple(slice(0, s.stop - s.start) for s in sl)]

    def delete(self, bucket):
        s3 = self.client()
        for idx in self.indices:
            s3.delete_object(Bucket=bucket, Key='.'.join(map(str, idx)))
        s3.delete_object(Bucket=bucket, Key='dataset_root')
        s3.delete_bucket(Bucket=bucket)

    def each(self, mode, fn):
        if mode == 'seq':
            for idx in self.indices:
                fn(idx)
        else:
            with concurrent.futures.ThreadPoolExecutor(self.args.threads) as pool:
                for f in [pool.submit(fn, idx) for idx in self.indices]:
                    f.result()

    def timed(self, fn):
        c0, r0, t0 = self_cpu(), proc_cpu(self.args.rgw_pid), time.perf_counter()
        fn()
        t1, c1, r1 = time.perf_counter(), self_cpu(), proc_cpu(self.args.rgw_pid)
        return t1 - t0, c1 - c0, (r1 - r0) if r0 is not None and r1 is not None else None

    def report(self, op, mode, runs):
        runs.sort(key=lambda r: r[0])
        seconds, cpu, rgw = runs[len(runs) // 2]
        nbytes = self.data.nbytes
        name = 'boto3-seq' if mode == 'seq' else 'boto3-pool%d' % self.args.threads
        line = {'op': op, 'backend': name, 'shape': list(self.shape), 'chunks': list(self.chunks),
                'bytes': nbytes, 'seconds': round(seconds, 4),
                'mb_per_s': round(nbytes / seconds / 1e6, 1),
                'cpu_seconds': round(cpu, 3),
                'cpu_s_per_gb': round(cpu / (nbytes / 1e9), 2),
                'rgw_cpu_seconds': None if rgw is None else round(rgw, 2)}
        print(json.dumps(line), flush=True)

    def run(self, mode):
        # create_load: a new dataset each repetition, as dosna-bench does.
        runs = []
        for _ in range(self.args.reps):
            bucket = self.new_bucket()
            runs.append(self.timed(lambda: (self.create(bucket),
                                            self.each(mode, lambda i: self.put_chunk(bucket, i)))))
            self.delete(bucket)
        self.report('create_load', mode, runs)

        bucket = self.new_bucket()
        self.create(bucket)
        self.each('pool', lambda i: self.put_chunk(bucket, i))
        try:
            runs = []
            for _ in range(self.args.reps):
                out = np.full(self.shape, np.nan, dtype=self.dtype)
                runs.append(self.timed(lambda: self.each(mode, lambda i: self.get_chunk(bucket, i, out))))
                if not np.array_equal(out, self.data):
                    sys.exit('boto3_reference: read_full returned wrong data')
            self.report('read_full', mode, runs)
        finally:
            self.delete(bucket)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--endpoint', default=os.environ.get('DOSNA_S3_ENDPOINT'))
    p.add_argument('--shape', default='256,256,256')
    p.add_argument('--chunks', default='64,64,64')
    p.add_argument('--dtype', default='<f4')
    p.add_argument('--threads', type=int, default=16)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--rgw-pid', type=int, default=0)
    p.add_argument('--modes', default='seq,pool')
    args = p.parse_args()
    if not args.endpoint:
        sys.exit('boto3_reference: no --endpoint and no DOSNA_S3_ENDPOINT')
    ref = Reference(args)
    ref.client()
    for mode in args.modes.split(','):
        ref.run(mode)


if __name__ == '__main__':
    main()
