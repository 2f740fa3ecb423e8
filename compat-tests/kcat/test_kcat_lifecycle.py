"""kcat (librdkafka) and the storage lifecycle of a real Samsa broker: after DeleteRecords
(sent on the wire: kcat cannot) a consumer asking for a deleted offset is reset to the new
log start by auto.offset.reset, and -o beginning starts there; on a compacted topic kcat
reads the latest value of every key (the cleaner's backoff lowered first with a dynamic
broker config through AlterConfigs on the wire).

kcat -C without -G. Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, bootstrap, wait_until  # noqa: E402
import wire  # noqa: E402

BS = bootstrap()
KCAT = os.environ.get('KCAT', 'kcat')
suite = Suite('kcat lifecycle')


def run_kcat(args, stdin=None, timeout=60):
    cmd = [KCAT, '-b', BS] + args
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise Failure('kcat exited with %d: %s\n      stderr: %s' % (p.returncode, ' '.join(cmd), p.stderr.decode('utf-8', 'replace')[-2000:]))
    return p


def produce(topic, lines, per_run=None):
    """One message per 'key:value' line; several kcat runs make several batches (and segments)."""
    chunks = [lines] if per_run is None else [lines[i:i + per_run] for i in range(0, len(lines), per_run)]
    for chunk in chunks:
        run_kcat(['-P', '-t', topic, '-K:', '-p', '0'], stdin=''.join(l + '\n' for l in chunk).encode('utf-8'), timeout=60)


def consume(topic, args, timeout=30):
    p = run_kcat(['-C', '-t', topic, '-p', '0', '-e', '-J'] + list(args), timeout=timeout)
    return [json.loads(l) for l in p.stdout.decode('utf-8').splitlines() if l.strip()]


def _string16(s):
    return wire._string(s)


def create_topic(name, configs):
    """CreateTopics v2 with configs."""
    body = struct.pack('>i', 1) + _string16(name) + struct.pack('>ihi', 1, 1, 0) + struct.pack('>i', len(configs))
    for k, v in configs.items():
        body += _string16(k) + _string16(v)
    body += struct.pack('>i?', 10000, False)
    r = wire._request(19, 2, body)
    r.take('>i')
    r.take('>i')
    r.string()
    code = r.take('>h')
    check_eq('CreateTopics %s error' % name, 0, code)


def delete_records(topic, partition, offset):
    body = struct.pack('>i', 1) + _string16(topic) + struct.pack('>iiq', 1, partition, offset) + struct.pack('>i', 10000)
    r = wire._request(21, 0, body)
    r.take('>i')
    r.take('>i')
    r.string()
    r.take('>i')
    r.take('>i')
    low = r.take('>q')
    return low, r.take('>h')


def alter_broker_config(name, value):
    """AlterConfigs v0 on this broker (id 1): the dynamic per-broker value of one setting."""
    body = struct.pack('>i', 1) + struct.pack('>b', 4) + _string16('1') + struct.pack('>i', 1) + _string16(name) + _string16(value) + struct.pack('>?', False)
    r = wire._request(33, 0, body)
    r.take('>i')
    r.take('>i')
    return r.take('>h')


@suite.case
def deleted_offsets_reset_to_the_new_start():
    topic = 'kcat-delete'
    create_topic(topic, {'segment.bytes': '1024'})
    produce(topic, ['k:m%d' % i for i in range(100)], per_run=20)
    low, code = delete_records(topic, 0, 70)
    check_eq('DeleteRecords', (70, 0), (low, code))
    got = consume(topic, ['-o', '5', '-X', 'auto.offset.reset=earliest'])
    check_eq('offsets after the reset', list(range(70, 100)), [m['offset'] for m in got])
    check_eq('values after the reset', ['m%d' % i for i in range(70, 100)], [m['payload'] for m in got])
    got = consume(topic, ['-o', 'beginning'])
    check_eq('-o beginning starts at the log start', 70, got[0]['offset'] if got else None)


@suite.case
def compacted_topic_reads_latest_values():
    check_eq('AlterConfigs log.cleaner.backoff.ms', 0, alter_broker_config('log.cleaner.backoff.ms', '100'))
    topic = 'kcat-compact'
    create_topic(topic, {'cleanup.policy': 'compact', 'segment.bytes': '1024', 'min.cleanable.dirty.ratio': '0.01'})
    lines = ['key%d:value-%d-%s' % (i % 7, i, 'x' * 20) for i in range(700)]
    produce(topic, lines, per_run=35)
    latest = {}
    for i in range(700):
        latest['key%d' % (i % 7)] = (i, 'value-%d-%s' % (i, 'x' * 20))

    def compacted():
        got = consume(topic, ['-o', 'beginning'])
        return got if len(got) <= 7 + 35 else None

    got = wait_until('the cleaner to compact %s' % topic, compacted, timeout=30, interval=0.5)
    seen = {}
    for m in got:
        check_eq('value at offset %d' % m['offset'], lines[m['offset']].split(':', 1)[1], m['payload'])
        seen[m['key']] = (m['offset'], m['payload'])
    check_eq('latest value of every key at its offset', latest, seen)


if __name__ == '__main__':
    suite.main()
