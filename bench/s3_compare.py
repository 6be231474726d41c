#!/usr/bin/python3
"""Runs dosna-bench on the s3 backend and bench/boto3_reference.py in the same
session, interleaved round by round, against the radosgw of DOSNA_S3_ENDPOINT,
and prints their JSON lines plus a summary line per op with the medians over
rounds and the speed-up ratios the s3 issue asks for.

CPU: dosna-bench's own CPU time includes making and verifying its data, so the
client CPU of one op is taken as the difference between a run with 1 + K
repetitions and one with 1 repetition, divided by K. A create_load repetition
also verifies by reading everything back, so read_full's per-op CPU is
subtracted from it. radosgw's CPU (from /proc/PID/stat) is taken the same way.

  s3_compare.py --rgw-pid PID [--bench build/bin/dosna-bench] [--rounds 3]
                [--reps 5] [--shape 256,256,256] [--chunks 64,64,64]
                [--opt key=value]...
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def proc_cpu(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_bench(args, op, reps):
    """(json lines, client cpu, rgw cpu) of one dosna-bench run."""
    cmd = [args.bench, '--backend', 's3', '--name', 'bench', '--shape', args.shape,
           '--chunks', args.chunks, '--ops', op, '--reps', str(reps),
           '--opt', 'endpoint_url=' + args.endpoint]
    for o in args.opt:
        cmd += ['--opt', o]
    c0, r0 = children_cpu(), proc_cpu(args.rgw_pid)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    c1, r1 = children_cpu(), proc_cpu(args.rgw_pid)
    return [json.loads(l) for l in out.splitlines() if l.startswith('{')], c1 - c0, r1 - r0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--bench', default='build/bin/dosna-bench')
    p.add_argument('--endpoint', default=os.environ.get('DOSNA_S3_ENDPOINT'))
    p.add_argument('--rgw-pid', type=int, required=True)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--reps', type=int, default=5)
    p.add_argument('--shape', default='256,256,256')
    p.add_argument('--chunks', default='64,64,64')
    p.add_argument('--opt', action='append', default=[])
    args = p.parse_args()
    k = args.reps
    seconds = {}   # (backend, op) -> [seconds per round]
    cpu = {}       # (backend, op) -> [client cpu s per op]
    rgw = {}       # (backend, op) -> [rgw cpu s per op]
    nbytes = None
    for rnd in range(args.rounds):
        per = {}
        for op in ('read_full', 'create_load'):
            lines1, c1, g1 = run_bench(args, op, 1)
            linesk, ck, gk = run_bench(args, op, 1 + k)
            line = linesk[0]
            line['round'] = rnd
            print(json.dumps(line), flush=True)
            nbytes = line['bytes']
            per[op] = ((ck - c1) / k, (gk - g1) / k)
            seconds.setdefault(('dosna-s3', op), []).append(line['seconds'])
        read_c, read_g = per['read_full']
        cpu.setdefault(('dosna-s3', 'read_full'), []).append(read_c)
        rgw.setdefault(('dosna-s3', 'read_full'), []).append(read_g)
        cpu.setdefault(('dosna-s3', 'create_load'), []).append(per['create_load'][0] - read_c)
        rgw.setdefault(('dosna-s3', 'create_load'), []).append(per['create_load'][1] - read_g)
        ref = subprocess.run(
            ['/usr/bin/python3', os.path.join(HERE, 'boto3_reference.py'), '--endpoint', args.endpoint,
             '--shape', args.shape, '--chunks', args.chunks, '--reps', str(args.reps),
             '--rgw-pid', str(args.rgw_pid)],
            check=True, stdout=subprocess.PIPE, text=True).stdout
        for l in ref.splitlines():
            d = json.loads(l)
            d['round'] = rnd
            print(json.dumps(d), flush=True)
            key = (d['backend'], d['op'])
            seconds.setdefault(key, []).append(d['seconds'])
            cpu.setdefault(key, []).append(d['cpu_seconds'])
            rgw.setdefault(key, []).append(d['rgw_cpu_seconds'])
    gb = nbytes / 1e9
    for op in ('create_load', 'read_full'):
        med = {b: statistics.median(seconds[(b, o)]) for (b, o) in seconds if o == op}
        summary = {'summary': op, 'rounds': args.rounds, 'bytes': nbytes}
        for b, s in sorted(med.items()):
            summary[b] = {'seconds': round(s, 4), 'mb_per_s': round(nbytes / s / 1e6, 1),
                          'client_cpu_s_per_gb': round(statistics.median(cpu[(b, op)]) / gb, 2),
                          'rgw_cpu_s_per_gb': round(statistics.median(rgw[(b, op)]) / gb, 2)}
        pool = [b for b in med if b.startswith('boto3-pool')]
        summary['speedup_vs_boto3_seq'] = round(med['boto3-seq'] / med['dosna-s3'], 2)
        if pool:
            summary['speedup_vs_' + pool[0]] = round(med[pool[0]] / med['dosna-s3'], 2)
        print(json.dumps(summary), flush=True)


if __name__ == '__main__':
    main()
