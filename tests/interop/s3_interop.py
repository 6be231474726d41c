#!/usr/bin/python3
"""boto3 side of the s3 interop tests: writes a dataset exactly as the
original DosNa's s3 backend does, and checks one DosNa wrote, by FORMAT.md.

  s3_interop.py write BUCKET    dataset + some chunks, written with boto3
  s3_interop.py plain BUCKET    a bucket without dataset_root (not a dataset)
  s3_interop.py check BUCKET    verify a dataset DosNa (C++) wrote
  s3_interop.py delete BUCKET   remove a bucket and everything in it

The endpoint is DOSNA_S3_ENDPOINT; credentials come from the usual AWS_*
variables / shared files, as the original does. Exit 0 and "OK" on success.
"""
import itertools
import os
import sys

import boto3
import numpy as np

SHAPE = (10, 12, 7)
CHUNK = (4, 5, 7)
DTYPE = np.dtype('<f8')
FILL = -1.5
# Region [0:8, 0:10, :] is written: exactly chunks (0..1, 0..1, 0).
WRITTEN = (slice(0, 8), slice(0, 10), slice(0, 7))


def expected():
    i, j, k = np.indices(SHAPE)
    full = np.full(SHAPE, FILL, dtype=DTYPE)
    values = (i * 100 + j * 10 + k + 0.25).astype(DTYPE)
    full[WRITTEN] = values[WRITTEN]
    return full


def grid():
    return tuple(-(-s // c) for s, c in zip(SHAPE, CHUNK))


def client():
    return boto3.session.Session().client(
        's3', endpoint_url=os.environ['DOSNA_S3_ENDPOINT'])


def fmt(ints):
    return '::'.join(str(int(v)) for v in ints)


def chunk_of(array, idx):
    """The full chunk_size block at idx, fill outside the dataset."""
    block = np.full(CHUNK, FILL, dtype=DTYPE)
    lo = [i * c for i, c in zip(idx, CHUNK)]
    hi = [min(l + c, s) for l, c, s in zip(lo, CHUNK, SHAPE)]
    src = tuple(slice(l, h) for l, h in zip(lo, hi))
    dst = tuple(slice(0, h - l) for l, h in zip(lo, hi))
    block[dst] = array[src]
    return block


def write(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    metadata = {
        'shape': fmt(SHAPE),
        'dtype': DTYPE.str,
        'fillvalue': repr(FILL),
        'chunk-grid': fmt(grid()),
        'chunk-size': fmt(CHUNK),
    }
    s3.put_object(Bucket=bucket, Key='dataset_root', Body=b'DosNa Dataset',
                  Metadata=metadata)
    data = expected()
    for idx in itertools.product(*(range(g) for g in grid())):
        if idx[0] >= 2 or idx[1] >= 2:
            continue  # never written: DosNa must read the fill value there
        s3.put_object(Bucket=bucket, Key='.'.join(map(str, idx)),
                      Body=chunk_of(data, idx).tobytes())


def plain(bucket):
    s3 = client()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key='other', Body=b'not a dataset')


def check(bucket):
    s3 = client()
    head = s3.head_object(Bucket=bucket, Key='dataset_root')
    meta = head['Metadata']
    want = {
        'shape': fmt(SHAPE),
        'dtype': DTYPE.str,
        'fillvalue': repr(FILL),
        'chunk-grid': fmt(grid()),
        'chunk-size': fmt(CHUNK),
    }
    if meta != want:
        sys.exit('metadata %r != %r' % (meta, want))
    body = s3.get_object(Bucket=bucket, Key='dataset_root')['Body'].read()
    if body != b'DosNa Dataset':
        sys.exit('dataset_root body %r' % body)
    keys = set()
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket):
        keys.update(o['Key'] for o in page.get('Contents', []))
    want_keys = {'dataset_root'} | {'%d.%d.0' % (i, j) for i in range(2) for j in range(2)}
    if keys != want_keys:
        sys.exit('keys %s != %s' % (sorted(keys), sorted(want_keys)))
    data = expected()
    for idx in itertools.product(*(range(g) for g in grid())):
        key = '.'.join(map(str, idx))
        if key not in keys:
            continue
        raw = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
        block = np.frombuffer(raw, dtype=DTYPE)
        if block.size != int(np.prod(CHUNK)):
            sys.exit('chunk %s has %d bytes' % (key, len(raw)))
        if not np.array_equal(block.reshape(CHUNK), chunk_of(data, idx)):
            sys.exit('chunk %s differs' % key)


def delete(bucket):
    s3 = client()
    try:
        for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket):
            for o in page.get('Contents', []):
                s3.delete_object(Bucket=bucket, Key=o['Key'])
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        pass


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    {'write': write, 'plain': plain, 'check': check, 'delete': delete}[sys.argv[1]](sys.argv[2])
    print('OK')


if __name__ == '__main__':
    main()
