#!/usr/bin/env python3
"""Produce-to-consume latency at a fixed rate, with librdkafka (confluent-kafka-python).

    python3 bench/latency.py --bootstrap 127.0.0.1:9092 --topic lat --rate 10000 --seconds 10

The consumer (this process) assigns partition 0 at its end, then starts a producer process
(this script with --role producer) that sends --rate records per second for --warmup plus
--seconds seconds, each value starting with the send time (CLOCK_MONOTONIC, shared by all
processes of the machine) and a sequence number. The consumer computes receive time minus
send time per record; records of the warm-up are not counted. The last line on stdout is one
JSON object: count, p50/p99/p999/max in ms, achieved rate, missing records, the measured
window (from_ns, to_ns: CLOCK_MONOTONIC receive times of the first and last counted record)
and the slow episodes: runs of consecutive records at least --slow-ms late, each as
[first receive ns, last receive ns, max ms, records] (at most 50, longest first), to line
up with the broker's stall log (bench/loop-stall-probe.ts).

Client settings: producer linger.ms=0, acks=1 (the broker has one replica); consumer
fetch.wait.max.ms=100 (the broker answers a parked fetch as soon as a produce arrives).
"""
import argparse
import json
import struct
import subprocess
import sys
import time

HEADER = struct.Struct('>qI')


def producer(args):
    from confluent_kafka import Producer

    p = Producer({
        'bootstrap.servers': args.bootstrap,
        'linger.ms': 0,
        'acks': 1,
        'queue.buffering.max.messages': 1000000,
    })
    total = int(args.rate * (args.seconds + args.warmup))
    pad = b'x' * max(0, args.size - HEADER.size)
    start = time.monotonic()
    sent = 0
    while sent < total:
        now = time.monotonic()
        due = min(total, int((now - start) * args.rate) + 1)
        while sent < due:
            p.produce(args.topic, HEADER.pack(time.monotonic_ns(), sent) + pad, partition=0)
            sent += 1
        p.poll(0)
        next_at = start + sent / args.rate
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(min(delay, 0.001))
    p.flush(30)
    elapsed = time.monotonic() - start
    sys.stderr.write('producer: %d records in %.2f s\n' % (sent, elapsed))


def consumer(args):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_END

    c = Consumer({
        'bootstrap.servers': args.bootstrap,
        'group.id': 'samsa-bench-latency',
        'enable.auto.commit': False,
        'fetch.wait.max.ms': 100,
        'fetch.min.bytes': 1,
        'enable.partition.eof': False,
    })
    c.assign([TopicPartition(args.topic, 0, OFFSET_END)])
    # Let the consumer resolve the end offset and park its first fetch.
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        c.poll(0.1)
    total = int(args.rate * (args.seconds + args.warmup))
    skip = int(args.rate * args.warmup)
    prod = subprocess.Popen([sys.executable, __file__, '--role', 'producer'] + sys.argv[1:])
    lat = []
    episodes = []
    current = None
    first_counted = None
    last_counted = None
    end_by = time.monotonic() + args.seconds + args.warmup + 30
    # Until every measured record is in: warm-up records sent before the consumer's end offset
    # was resolved (a busy broker) are never seen, and need not be.
    while len(lat) < total - skip and time.monotonic() < end_by:
        msg = c.poll(0.5)
        if msg is None or msg.error():
            continue
        now = time.monotonic_ns()
        sent_ns, seq = HEADER.unpack_from(msg.value(), 0)
        if seq >= skip:
            ms = (now - sent_ns) / 1e6
            lat.append(ms)
            if ms >= args.slow_ms:
                if current is None:
                    current = [now, now, ms, 0]
                    episodes.append(current)
                current[1] = now
                current[2] = max(current[2], ms)
                current[3] += 1
            else:
                current = None
            if first_counted is None:
                first_counted = now
            last_counted = now
    prod.wait(60)
    c.close()
    lat.sort()

    def pct(q):
        if not lat:
            return None
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    span = (last_counted - first_counted) / 1e9 if lat and last_counted > first_counted else 0
    print(json.dumps({
        'count': len(lat),
        'expected': total - skip,
        'missing': total - skip - len(lat),
        'rate': len(lat) / span if span > 0 else None,
        'p50': pct(0.50),
        'p99': pct(0.99),
        'p999': pct(0.999),
        'max': lat[-1] if lat else None,
        'from_ns': first_counted,
        'to_ns': last_counted,
        'episodes': sorted(episodes, key=lambda e: -e[3])[:50],
        'episode_count': len(episodes),
    }))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--bootstrap', required=True)
    ap.add_argument('--topic', required=True)
    ap.add_argument('--rate', type=float, default=10000)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--warmup', type=float, default=2)
    ap.add_argument('--size', type=int, default=100)
    ap.add_argument('--slow-ms', type=float, default=5)
    ap.add_argument('--role', default='consumer')
    args = ap.parse_args()
    if args.role == 'producer':
        producer(args)
    else:
        consumer(args)


if __name__ == '__main__':
    main()
