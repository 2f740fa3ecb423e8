"""kcat (librdkafka) against a real Samsa broker: metadata listing, produce/consume with
every compression codec, headers, null keys/values, consuming from an absolute or relative
offset, from a timestamp (-o s@TS, -o e@TS) and offset lookup by timestamp (-Q).

kcat -C without -G: the simple (assign-style) consumer, no consumer group involved.
Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, check_seq, bootstrap, broker_port  # noqa: E402

BS = bootstrap()
KCAT = os.environ.get('KCAT', 'kcat')
suite = Suite('kcat')

CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
N = 2000
# Static headers kcat adds to every message: a duplicated name (order must be kept),
# an empty value and a null value (-H name without '=').
HEADER_ARGS = ['trace=abc-123', 'dup=first', 'dup=second', 'empty=', 'nullhdr']
HEADERS = [['trace', 'abc-123'], ['dup', 'first'], ['dup', 'second'], ['empty', ''], ['nullhdr', None]]


def run_kcat(args, stdin=None, timeout=60):
    cmd = [KCAT, '-b', BS] + args
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure(
            'kcat timed out after %ss: %s\n      stdout tail: %r\n      stderr tail:\n        %s'
            % (timeout, ' '.join(cmd), (e.stdout or b'')[-300:],
               '\n        '.join((e.stderr or b'').decode('utf-8', 'replace').splitlines()[-4:]))
        )
    if p.returncode != 0:
        raise Failure(
            'kcat exited with %d: %s\n      stderr: %s' % (p.returncode, ' '.join(cmd), p.stderr.decode('utf-8', 'replace')[-2000:])
        )
    return p


def produce(topic, lines, extra=()):
    """Produces one message per line ('key:value' with -K:)."""
    data = ''.join(line + '\n' for line in lines).encode('utf-8')
    p = run_kcat(['-P', '-t', topic, '-K:'] + list(extra), stdin=data, timeout=90)
    # kcat exits 1 when a delivery report failed, but say what it printed as well.
    err = p.stderr.decode('utf-8', 'replace')
    check('kcat -P printed no delivery failure', 'Delivery failed' not in err and 'ERROR' not in err, err[-2000:])


def consume_json(topic, args, timeout=60):
    """Consumes with the JSON envelope until EOF; returns the decoded messages in order."""
    # No -q: librdkafka's log lines on stderr end up in the failure message on a timeout.
    p = run_kcat(['-C', '-t', topic, '-e', '-J'] + list(args), timeout=timeout)
    out = []
    for line in p.stdout.decode('utf-8').splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            raise Failure('kcat -J printed a line that is not JSON: %r' % line[:500])
    return out


def metadata_json(topic=None):
    args = ['-L', '-J'] + (['-t', topic] if topic else [])
    p = run_kcat(args, timeout=30)
    try:
        return json.loads(p.stdout.decode('utf-8'))
    except ValueError:
        raise Failure('kcat -L -J did not print JSON: %r' % p.stdout[:1000])


def codec_value(i, codec):
    # Compressible, varied sizes, a ':' after the key delimiter, some UTF-8 and empties.
    if i % 97 == 0:
        return ''
    v = 'value-%d-%s-' % (i, codec) + 'abcdefghij' * (i % 23)
    if i % 5 == 0:
        v += ':with:colons'
    if i % 11 == 0:
        v += '-\u00fcn\u00efc\u00f6d\u00e9-\u20ac'
    return v


def assert_messages(what, got, topic, expected, first_offset=0, partition=0, headers=HEADERS):
    """expected: list of (key, value). Checks offsets, keys, values, headers, timestamp type."""
    check_eq('%s: message count' % what, len(expected), len(got))
    check_seq('%s: (offset, key, value) in order' % what,
              [(first_offset + i, k, v) for i, (k, v) in enumerate(expected)],
              [(m.get('offset'), m.get('key'), m.get('payload')) for m in got])
    check_seq('%s: topic/partition' % what, [(topic, partition)] * len(got), [(m.get('topic'), m.get('partition')) for m in got])
    if headers is not None:
        check_seq('%s: headers' % what, [sum(headers, [])] * len(got), [m.get('headers') for m in got])
    check_seq('%s: timestamp type' % what, ['create'] * len(got), [m.get('tstype') for m in got])


@suite.case
def metadata_lists_broker():
    md = metadata_json()
    port = broker_port()
    check_eq('brokers in kcat -L -J', [{'id': 1, 'name': '127.0.0.1:%d' % port}], md.get('brokers'))
    check_eq('originating broker id', 1, md.get('originating_broker', {}).get('id'))
    check_eq('controller id', 1, md.get('controllerid'))
    p = run_kcat(['-L'], timeout=30)
    text = p.stdout.decode('utf-8')
    check('text listing names the broker as controller',
          (' broker 1 at 127.0.0.1:%d (controller)' % port) in text, repr(text[:1000]))


@suite.case
def metadata_lists_topics_after_produce():
    produce('kcat-meta-a', ['k:v'])
    produce('kcat-meta-b', ['k1:v1', 'k2:v2'])
    md = metadata_json()
    topics = {t['topic']: t for t in md.get('topics', [])}
    for name in ('kcat-meta-a', 'kcat-meta-b'):
        check('topic %s listed by kcat -L' % name, name in topics, 'topics: %r' % sorted(topics))
        t = topics[name]
        check_eq('topic %s error' % name, None, t.get('error'))
        check_eq('topic %s partitions' % name,
                 [{'partition': 0, 'leader': 1, 'replicas': [{'id': 1}], 'isrs': [{'id': 1}]}],
                 t.get('partitions'))
    one = metadata_json('kcat-meta-a')
    check_eq('kcat -L -t kcat-meta-a lists exactly that topic',
             ['kcat-meta-a'], [t['topic'] for t in one.get('topics', [])])
    text = run_kcat(['-L', '-t', 'kcat-meta-b'], timeout=30).stdout.decode('utf-8')
    check('text listing of one topic', 'topic "kcat-meta-b" with 1 partitions:' in text
          and 'partition 0, leader 1, replicas: 1, isrs: 1' in text, repr(text))


def make_codec_case(codec):
    def case():
        topic = 'kcat-codec-%s' % codec
        expected = [('key-%05d' % i, codec_value(i, codec)) for i in range(N)]
        t0 = int(time.time() * 1000)
        # -z sets compression.codec; linger lets librdkafka build big multi-record batches.
        produce(topic, ['%s:%s' % kv for kv in expected],
                ['-z', codec, '-X', 'linger.ms=50'] + sum((['-H', h] for h in HEADER_ARGS), []))
        t1 = int(time.time() * 1000)
        got = consume_json(topic, ['-p', '0', '-o', 'beginning'])
        assert_messages('%s round trip' % codec, got, topic, expected)
        bad_ts = [(m['offset'], m.get('ts')) for m in got if not (t0 - 1000 <= (m.get('ts') or 0) <= t1 + 1000)]
        check_eq('%s: create timestamps between %d and %d (+-1s); (offset, ts) outside' % (codec, t0, t1), [], bad_ts[:5])
        # Same data through the format-string output: -f with key, payload, headers, offset.
        p = run_kcat(['-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q',
                      '-f', '%o|%k|%s|%h|%S\n'], timeout=60)
        lines = p.stdout.decode('utf-8').split('\n')
        check_eq('%s: -f output ends with a newline' % codec, '', lines[-1])
        # kcat prints a null header value as NULL in %h (and an empty one as nothing).
        hdr_csv = 'trace=abc-123,dup=first,dup=second,empty=,nullhdr=NULL'
        check_seq('%s: kcat -f "%%o|%%k|%%s|%%h|%%S" lines' % codec,
                  ['%d|%s|%s|%s|%d' % (i, k, v, hdr_csv, len(v.encode('utf-8'))) for i, (k, v) in enumerate(expected)],
                  lines[:-1])
    case.__name__ = 'produce_consume_%s' % codec
    return case


for _codec in CODECS:
    suite.case(make_codec_case(_codec))


@suite.case
def consume_from_absolute_and_relative_offset():
    topic = 'kcat-offsets'
    expected = [('k%d' % i, 'v%d' % i) for i in range(500)]
    produce(topic, ['%s:%s' % kv for kv in expected], ['-X', 'linger.ms=20'])
    got = consume_json(topic, ['-p', '0', '-o', '321'])
    assert_messages('-o 321', got, topic, expected[321:], first_offset=321, headers=None)
    got = consume_json(topic, ['-p', '0', '-o', '-7'])
    assert_messages('-o -7 (relative to end)', got, topic, expected[-7:], first_offset=493, headers=None)
    got = consume_json(topic, ['-p', '0', '-o', '499'])
    assert_messages('-o 499 (last message)', got, topic, expected[499:], first_offset=499, headers=None)
    got = consume_json(topic, ['-p', '0', '-o', 'end'])
    check_eq('-o end returns nothing', [], got)
    got = consume_json(topic, ['-p', '0', '-o', '100', '-c', '5'])
    assert_messages('-o 100 -c 5', got, topic, expected[100:105], first_offset=100, headers=None)
    # Consuming without -p covers every partition (one here) and exits at EOF.
    got = consume_json(topic, ['-o', 'beginning'])
    assert_messages('all partitions from beginning', got, topic, expected, headers=None)


@suite.case
def out_of_range_offset_resets_to_earliest():
    # Offset 5000 is past the end: the broker answers OFFSET_OUT_OF_RANGE and librdkafka
    # resets to auto.offset.reset (earliest here) and reads everything.
    topic = 'kcat-range'
    expected = [('k%d' % i, 'v%d' % i) for i in range(10)]
    produce(topic, ['%s:%s' % kv for kv in expected])
    got = consume_json(topic, ['-p', '0', '-o', '5000', '-X', 'auto.offset.reset=earliest'], timeout=10)
    assert_messages('-o 5000 with auto.offset.reset=earliest', got, topic, expected, headers=None)


@suite.case
def null_keys_and_values():
    topic = 'kcat-nulls'
    # -Z: empty key or value becomes NULL. Lines without the delimiter have no key.
    produce(topic, ['k1:v1', ':no-key', 'tomb:', 'no-delimiter-line', 'k5:v5'], ['-Z'])
    got = consume_json(topic, ['-p', '0', '-o', 'beginning'])
    check_seq('(offset, key, payload) with nulls',
              [(0, 'k1', 'v1'), (1, None, 'no-key'), (2, 'tomb', None), (3, None, 'no-delimiter-line'), (4, 'k5', 'v5')],
              [(m.get('offset'), m.get('key'), m.get('payload')) for m in got])
    check_seq('no headers on messages produced without -H', [None] * 5, [m.get('headers') for m in got])
    # Without -Z an empty key/value is an empty (non-null) byte string.
    produce(topic, [':empty-key', 'empty-value:'])
    got = consume_json(topic, ['-p', '0', '-o', '5'])
    check_seq('empty (non-null) key and value', [(5, '', 'empty-key'), (6, 'empty-value', '')],
              [(m.get('offset'), m.get('key'), m.get('payload')) for m in got])


@suite.case
def large_messages():
    topic = 'kcat-large'
    sizes = [1, 100 * 1024, 700 * 1024, 300 * 1024]
    expected = [('big%d' % i, ('%d-' % i) + ''.join(chr(65 + (j * 7 + i) % 26) for j in range(s))) for i, s in enumerate(sizes)]
    for codec in ('none', 'zstd'):
        produce(topic, ['%s:%s' % kv for kv in expected], ['-z', codec])
    got = consume_json(topic, ['-p', '0', '-o', 'beginning'])
    exp = expected + expected
    check_eq('large: count', len(exp), len(got))
    check_seq('large: (offset, key, payload length, payload)',
              [(i, k, len(v), v) for i, (k, v) in enumerate(exp)],
              [(m.get('offset'), m.get('key'), len(m.get('payload') or ''), m.get('payload')) for m in got])


def produce_two_batches(topic):
    """Two groups of messages with a clear gap between their create timestamps."""
    first = [('a%d' % i, 'first-%d' % i) for i in range(50)]
    second = [('b%d' % i, 'second-%d' % i) for i in range(50)]
    produce(topic, ['%s:%s' % kv for kv in first])
    time.sleep(0.3)
    produce(topic, ['%s:%s' % kv for kv in second])
    got = consume_json(topic, ['-p', '0', '-o', 'beginning'])
    assert_messages('two batches', got, topic, first + second, headers=None)
    ts = [m['ts'] for m in got]
    check('first group strictly older than second group',
          max(ts[:50]) < min(ts[50:]), 'first max %d, second min %d' % (max(ts[:50]), min(ts[50:])))
    return first, second, ts


@suite.case
def consume_from_timestamp():
    topic = 'kcat-timestamps'
    first, second, ts = produce_two_batches(topic)
    t_second = ts[50]
    got = consume_json(topic, ['-p', '0', '-o', 's@%d' % t_second])
    # Start at the first message whose timestamp is >= t_second.
    start = next(i for i, t in enumerate(ts) if t >= t_second)
    check_eq('first offset with ts >= %d' % t_second, 50, start)
    assert_messages('-o s@<ts of offset 50>', got, topic, (first + second)[50:], first_offset=50, headers=None)
    got = consume_json(topic, ['-p', '0', '-o', 's@%d' % (ts[0] - 60000)])
    assert_messages('-o s@<a minute before everything>', got, topic, first + second, headers=None)
    # -o s@A -o e@B: from the first group's start up to (not including) the second group.
    got = consume_json(topic, ['-p', '0', '-o', 's@%d' % ts[0], '-o', 'e@%d' % t_second])
    assert_messages('-o s@<ts0> -o e@<ts50>', got, topic, first, headers=None)


@suite.case
def query_offset_by_timestamp():
    topic = 'kcat-query'
    first, second, ts = produce_two_batches(topic)
    p = run_kcat(['-Q', '-J', '-t', '%s:0:%d' % (topic, ts[50])], timeout=30)
    try:
        res = json.loads(p.stdout.decode('utf-8'))
    except ValueError:
        raise Failure('kcat -Q -J did not print JSON: %r' % p.stdout[:500])
    check_eq('kcat -Q for ts of offset 50', {'partition': 0, 'offset': 50}, res.get(topic, {}).get('0'))
    p = run_kcat(['-Q', '-J', '-t', '%s:0:%d' % (topic, ts[0] - 60000)], timeout=30)
    res = json.loads(p.stdout.decode('utf-8'))
    check_eq('kcat -Q for a timestamp before everything', {'partition': 0, 'offset': 0}, res.get(topic, {}).get('0'))
    # Kafka answers -1 (no offset) for a timestamp after every message; librdkafka shows it as -1.
    p = run_kcat(['-Q', '-J', '-t', '%s:0:%d' % (topic, ts[-1] + 3600 * 1000)], timeout=30)
    res = json.loads(p.stdout.decode('utf-8'))
    check_eq('kcat -Q for a timestamp after everything', {'partition': 0, 'offset': -1}, res.get(topic, {}).get('0'))
    # -2 / -1 are the logical "beginning" / "end" queries.
    p = run_kcat(['-Q', '-J', '-t', '%s:0:-1' % topic], timeout=30)
    res = json.loads(p.stdout.decode('utf-8'))
    check_eq('kcat -Q end offset (-1)', {'partition': 0, 'offset': 100}, res.get(topic, {}).get('0'))
    p = run_kcat(['-Q', '-J', '-t', '%s:0:-2' % topic], timeout=30)
    res = json.loads(p.stdout.decode('utf-8'))
    check_eq('kcat -Q beginning offset (-2)', {'partition': 0, 'offset': 0}, res.get(topic, {}).get('0'))


@suite.case
def produce_to_explicit_partition_of_missing_partition_fails():
    # The topic has one partition (broker default); producing to partition 5 must fail
    # with a delivery error instead of silently succeeding.
    produce('kcat-one-partition', ['k:v'])
    cmd = [KCAT, '-b', BS, '-P', '-t', 'kcat-one-partition', '-p', '5', '-K:', '-X', 'message.timeout.ms=3000']
    p = subprocess.run(cmd, input=b'k:v\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check('kcat -P -p 5 to a 1-partition topic exits non-zero', p.returncode != 0,
          'exit %d, stderr %r' % (p.returncode, p.stderr.decode('utf-8', 'replace')[-500:]))
    got = consume_json('kcat-one-partition', ['-o', 'beginning'])
    check_eq('messages in kcat-one-partition after the failed produce', [(0, 'k', 'v')],
             [(m.get('offset'), m.get('key'), m.get('payload')) for m in got])


if __name__ == '__main__':
    suite.main()
