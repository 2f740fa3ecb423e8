"""kafka-python (pure Python client) against a real Samsa broker.

Covers: version probing (api_version auto), KafkaAdminClient create_topics (errors,
validate_only), describe_cluster/list_topics/describe_topics, create_partitions,
delete_topics; KafkaProducer with compression none/gzip (and snappy/lz4/zstd when the
Python modules kafka-python needs for them are installed; skipped otherwise) with keys,
values, headers, explicit timestamps, RecordMetadata offsets in order; KafkaConsumer with
group_id=None, assign() + seek_to_beginning()/seek(), beginning/end_offsets,
offsets_for_times, multi-partition reads.

kafka-python 2.0.2 speaks Produce v7, Fetch v4, ListOffsets v1, Metadata v1-5; its
version probe infers the broker version from ApiVersions.
Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP). Debian's /usr/bin/python3.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, Skip, check, check_eq, check_seq, bootstrap, broker_port, short  # noqa: E402

import kafka  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic, NewPartitions  # noqa: E402
from kafka import errors as Errors  # noqa: E402
from kafka import codec as kcodec  # noqa: E402

BS = bootstrap()
suite = Suite('kafka-python %s' % kafka.__version__)
N = 2000

# Which api_version to pass: None = auto-probe (the default). SAMSA_KAFKA_PYTHON_API_VERSION
# (e.g. "2.5.0") pins one, to document what works if probing ever breaks.
_pinned = os.environ.get('SAMSA_KAFKA_PYTHON_API_VERSION')
API_VERSION = tuple(int(x) for x in _pinned.split('.')) if _pinned else None


def common():
    c = {'bootstrap_servers': BS, 'request_timeout_ms': 20000}
    if API_VERSION:
        c['api_version'] = API_VERSION
    return c


def admin():
    return KafkaAdminClient(**common())


def producer(**kw):
    c = common()
    c.update({'linger_ms': 20, 'acks': 'all', 'retries': 0})
    c.update(kw)
    return KafkaProducer(**c)


def consumer(**kw):
    c = common()
    c.update({'group_id': None, 'enable_auto_commit': False, 'auto_offset_reset': 'earliest',
              'fetch_max_wait_ms': 100})
    c.update(kw)
    return KafkaConsumer(**c)


def topic_errors(resp):
    """CreateTopics/DeleteTopics/CreatePartitions response -> {name: error_code}."""
    out = {}
    rows = getattr(resp, 'topic_errors', None)
    if rows is None:
        rows = getattr(resp, 'topic_error_codes')
    for t in rows:
        out[t[0]] = t[1]
    return out


def admin_codes(call, *args, **kw):
    """Runs an admin call; returns {topic: error_code}. kafka-python 2.0.2 raises the first
    topic error as an exception (BrokerResponseError subclass with .errno)."""
    try:
        return topic_errors(call(*args, **kw))
    except Errors.BrokerResponseError as e:
        names = [getattr(t, 'name', t) for t in args[0]] if isinstance(args[0], list) else list(args[0])
        if len(names) != 1:
            raise
        return {names[0]: e.errno}


def create_ok(a, name, partitions=1, configs=None):
    codes = admin_codes(a.create_topics, [NewTopic(name, partitions, 1, topic_configs=configs or {})], timeout_ms=10000)
    check_eq('create_topics(%s) error code' % name, {name: 0}, codes)


def send_all(p, topic, msgs, partition=None):
    futures = []
    for m in msgs:
        futures.append(p.send(topic, value=m.get('value'), key=m.get('key'), headers=m.get('headers') or [],
                              timestamp_ms=m.get('timestamp'), partition=partition))
    p.flush(60)
    out = []
    for i, f in enumerate(futures):
        try:
            out.append(f.get(timeout=30))
        except Exception as e:
            raise Failure('send #%d failed: %r' % (i, e))
    return out


def poll_all(c, expected_count, timeout=60):
    got = []
    deadline = time.time() + timeout
    while len(got) < expected_count and time.time() < deadline:
        batch = c.poll(timeout_ms=500, max_records=1000)
        for tp in sorted(batch, key=lambda t: (t.topic, t.partition)):
            got.extend(batch[tp])
    if len(got) < expected_count:
        raise Failure('timed out after %ss: consumed %d of %d records' % (timeout, len(got), expected_count))
    # Nothing more must arrive.
    extra = c.poll(timeout_ms=500)
    extra = [r for rs in extra.values() for r in rs]
    check_eq('records beyond the expected %d' % expected_count, [], [(r.partition, r.offset) for r in extra][:5])
    return got


def read_partition(topic, partition, expected_count, start=None):
    c = consumer()
    try:
        tp = TopicPartition(topic, partition)
        c.assign([tp])
        if start is None:
            c.seek_to_beginning(tp)
        else:
            c.seek(tp, start)
        return poll_all(c, expected_count)
    finally:
        c.close()


@suite.case
def version_probe():
    c = consumer()
    try:
        v = c.config['api_version']
    finally:
        c.close()
    print('      api_version in use: %s%s' % ('.'.join(map(str, v)), ' (pinned)' if API_VERSION else ' (probed)'))
    # Headers, record batch v2 and offsets_for_times need >= 0.11; the probe must not fall
    # back to 0.10 (which would mean ApiVersions lacked Produce v8 / Fetch v10+...).
    check('probed api_version >= (0, 11)', tuple(v) >= (0, 11), 'got %s' % (v,))


@suite.case
def admin_describe_cluster():
    a = admin()
    try:
        cl = a.describe_cluster()
    finally:
        a.close()
    check_eq('brokers (node_id, host, port)', [(1, '127.0.0.1', broker_port())],
             [(b['node_id'], b['host'], b['port']) for b in cl['brokers']])
    check_eq('controller_id', 1, cl.get('controller_id'))
    check('cluster_id is a non-empty string', isinstance(cl.get('cluster_id'), str) and cl['cluster_id'], short(cl.get('cluster_id')))


@suite.case
def admin_create_list_describe_topics():
    a = admin()
    try:
        resp = a.create_topics([NewTopic('kp-one', 1, 1), NewTopic('kp-three', 3, 1),
                                NewTopic('kp-cfg', 2, 1, topic_configs={'retention.ms': '60000'})], timeout_ms=10000)
        check_eq('create_topics error codes', {'kp-one': 0, 'kp-three': 0, 'kp-cfg': 0}, topic_errors(resp))
        names = a.list_topics()
        for n in ('kp-one', 'kp-three', 'kp-cfg'):
            check('%s in list_topics()' % n, n in names, 'got %s' % sorted(names))
        desc = {t['topic']: t for t in a.describe_topics(['kp-one', 'kp-three', 'kp-cfg'])}
        for n, parts in (('kp-one', 1), ('kp-three', 3), ('kp-cfg', 2)):
            check('%s described' % n, n in desc, 'got %s' % sorted(desc))
            check_eq('%s error_code' % n, 0, desc[n]['error_code'])
            check_eq('%s partitions (partition, leader, replicas, isr, error_code)' % n,
                     [(i, 1, [1], [1], 0) for i in range(parts)],
                     sorted((p['partition'], p['leader'], list(p['replicas']), list(p['isr']), p['error_code'])
                            for p in desc[n]['partitions']))
        codes = admin_codes(a.create_topics, [NewTopic('kp-one', 1, 1)], timeout_ms=10000)
        check_eq('creating an existing topic -> TOPIC_ALREADY_EXISTS (36)', {'kp-one': 36}, codes)
        codes = admin_codes(a.create_topics, [NewTopic('kp-rf2', 1, 2)], timeout_ms=10000)
        check_eq('replication factor 2 -> INVALID_REPLICATION_FACTOR (38)', {'kp-rf2': 38}, codes)
        codes = admin_codes(a.create_topics, [NewTopic('kp-zero', 0, 1)], timeout_ms=10000)
        check_eq('0 partitions -> INVALID_PARTITIONS (37)', {'kp-zero': 37}, codes)
        codes = admin_codes(a.create_topics, [NewTopic('kp-validate', 2, 1)], timeout_ms=10000, validate_only=True)
        check_eq('validate_only create', {'kp-validate': 0}, codes)
        names = a.list_topics()
        for n in ('kp-rf2', 'kp-zero', 'kp-validate'):
            check('%s must not exist' % n, n not in names, 'got %s' % sorted(names))
    finally:
        a.close()


@suite.case
def admin_create_partitions_and_delete_topics():
    a = admin()
    try:
        create_ok(a, 'kp-grow', 1)
        codes = admin_codes(a.create_partitions, {'kp-grow': NewPartitions(3)}, timeout_ms=10000)
        check_eq('create_partitions(kp-grow -> 3)', {'kp-grow': 0}, codes)
        codes = admin_codes(a.create_partitions, {'kp-grow': NewPartitions(2)}, timeout_ms=10000)
        check_eq('shrinking to 2 -> INVALID_PARTITIONS (37)', {'kp-grow': 37}, codes)
        desc = a.describe_topics(['kp-grow'])
        check_eq('kp-grow partitions after growing', [0, 1, 2], sorted(p['partition'] for p in desc[0]['partitions']))
        p = producer()
        try:
            for part in range(3):
                md = send_all(p, 'kp-grow', [{'key': b'k', 'value': b'p%d' % part}], partition=part)
                check_eq('send to partition %d (partition, offset)' % part, [(part, 0)], [(m.partition, m.offset) for m in md])
        finally:
            p.close()
        got = read_partition('kp-grow', 2, 1)
        check_eq('record in new partition 2', [(2, 0, b'k', b'p2')], [(r.partition, r.offset, r.key, r.value) for r in got])
        codes = admin_codes(a.delete_topics, ['kp-grow'], timeout_ms=10000)
        check_eq('delete_topics(kp-grow)', {'kp-grow': 0}, codes)
        check('kp-grow gone from list_topics()', 'kp-grow' not in a.list_topics(), '')
        codes = admin_codes(a.delete_topics, ['kp-grow'], timeout_ms=10000)
        check_eq('deleting again -> UNKNOWN_TOPIC_OR_PARTITION (3)', {'kp-grow': 3}, codes)
    finally:
        a.close()


def codec_available(codec):
    return {
        'none': lambda: True,
        'gzip': kcodec.has_gzip,
        'snappy': kcodec.has_snappy,
        'lz4': kcodec.has_lz4,
        'zstd': kcodec.has_zstd,
    }[codec]()


CODEC_MODULES = {'snappy': 'python3-snappy', 'lz4': 'python3-lz4', 'zstd': 'python3-zstandard'}


def make_codec_case(codec):
    def case():
        if not codec_available(codec):
            raise Skip('kafka-python has no %s support in this Python (install %s)' % (codec, CODEC_MODULES.get(codec)))
        topic = 'kp-codec-%s' % codec
        base = int(time.time() * 1000) - 3600 * 1000
        msgs = []
        for i in range(N):
            # kafka-python refuses a record with neither key nor value: never both None.
            key = None if i % 40 == 0 else ('key-%05d' % i).encode()
            value = None if (i % 71 == 0 and key is not None) else ('v%d-' % i).encode() + b'kafka-python ' * (i % 17) + bytes([i % 256])
            headers = [] if i % 9 == 0 else [('i', str(i).encode()), ('dup', b'1'), ('dup', b'2'), ('empty', b'')]
            ts = None if i % 4 == 0 else base + i
            msgs.append({'key': key, 'value': value, 'headers': headers, 'timestamp': ts})
        p = producer(compression_type=None if codec == 'none' else codec, batch_size=64 * 1024)
        t0 = int(time.time() * 1000)
        try:
            md = send_all(p, topic, msgs)
        finally:
            p.close()
        t1 = int(time.time() * 1000)
        check_seq('%s RecordMetadata (partition, offset) in send order' % codec,
                  [(0, i) for i in range(N)], [(m.partition, m.offset) for m in md])
        got = read_partition(topic, 0, N)
        check_seq('%s consumed (offset, key, value, headers)' % codec,
                  [(i, m['key'], m['value'], m['headers']) for i, m in enumerate(msgs)],
                  [(r.offset, r.key, r.value, list(r.headers)) for r in got])
        check_seq('%s explicit timestamps (offset, timestamp_type, timestamp)' % codec,
                  [(i, 0, m['timestamp']) for i, m in enumerate(msgs) if m['timestamp'] is not None],
                  [(r.offset, r.timestamp_type, r.timestamp) for r in got if msgs[r.offset]['timestamp'] is not None])
        bad = [(r.offset, r.timestamp_type, r.timestamp) for r in got if msgs[r.offset]['timestamp'] is None
               and not (r.timestamp_type == 0 and t0 - 1000 <= r.timestamp <= t1 + 1000)]
        check_eq('%s default timestamps (CreateTime within [%d, %d] +-1s) outside' % (codec, t0, t1), [], bad[:5])
    case.__name__ = 'produce_consume_%s' % codec
    return case


for _codec in ['none', 'gzip', 'snappy', 'lz4', 'zstd']:
    suite.case(make_codec_case(_codec))


@suite.case
def seek_and_offset_queries():
    topic = 'kp-seek'
    base = int(time.time() * 1000) - 600 * 1000
    p = producer()
    try:
        send_all(p, topic, [{'key': b'k%d' % i, 'value': b'v%d' % i, 'timestamp': base + 10 * i} for i in range(200)])
    finally:
        p.close()
    tp = TopicPartition(topic, 0)
    c = consumer()
    try:
        c.assign([tp])
        check_eq('beginning_offsets', {tp: 0}, c.beginning_offsets([tp]))
        check_eq('end_offsets', {tp: 200}, c.end_offsets([tp]))
        c.seek(tp, 150)
        got = poll_all(c, 50)
        check_seq('records after seek(150)', [(150 + i, b'k%d' % (150 + i)) for i in range(50)], [(r.offset, r.key) for r in got])
        check_eq('position after reading to the end', 200, c.position(tp))
        c.seek_to_beginning(tp)
        got = poll_all(c, 200)
        check_seq('records after seek_to_beginning', list(range(200)), [r.offset for r in got])
        c.seek_to_end(tp)
        check_eq('position after seek_to_end', 200, c.position(tp))
    finally:
        c.close()


@suite.case
def offsets_for_times():
    topic = 'kp-times'
    base = int(time.time() * 1000) - 600 * 1000
    p = producer()
    try:
        send_all(p, topic, [{'key': b'k%d' % i, 'value': b'v%d' % i, 'timestamp': base + 10 * i} for i in range(200)])
    finally:
        p.close()
    tp = TopicPartition(topic, 0)
    c = consumer()
    try:
        res = c.offsets_for_times({tp: base - 5000})
        check_eq('offsets_for_times(before everything) (offset, timestamp)', (0, base), res[tp] and (res[tp].offset, res[tp].timestamp))
        res = c.offsets_for_times({tp: base + 10 * 200 + 5})
        check_eq('offsets_for_times(after everything)', None, res[tp])
        # Kafka answers the exact record (first with timestamp >= target), even inside a batch.
        res = c.offsets_for_times({tp: base + 10 * 77 - 3})
        check_eq('offsets_for_times(just before offset 77) (offset, timestamp)', (77, base + 770),
                 res[tp] and (res[tp].offset, res[tp].timestamp))
    finally:
        c.close()


@suite.case
def out_of_range_offset_resets_to_earliest():
    topic = 'kp-range'
    p = producer()
    try:
        send_all(p, topic, [{'key': b'k%d' % i, 'value': b'v'} for i in range(10)])
    finally:
        p.close()
    tp = TopicPartition(topic, 0)
    c = consumer(auto_offset_reset='earliest')
    try:
        c.assign([tp])
        c.seek(tp, 5000)
        got = poll_all(c, 10, timeout=20)
    finally:
        c.close()
    check_seq('offsets read after seek(5000) with auto_offset_reset=earliest', list(range(10)), [r.offset for r in got])


@suite.case
def multi_partition_consume():
    topic = 'kp-multi'
    a = admin()
    try:
        create_ok(a, topic, 4)
    finally:
        a.close()
    msgs = [{'key': ('user-%d' % (i % 29)).encode(), 'value': ('e%d' % i).encode()} for i in range(800)]
    p = producer(compression_type='gzip')
    try:
        md = send_all(p, topic, msgs)
    finally:
        p.close()
    per = {}
    for m, meta in zip(msgs, md):
        per.setdefault(meta.partition, []).append((meta.offset, m['key'], m['value']))
    check_eq('partitions that received records', [0, 1, 2, 3], sorted(per))
    c = consumer()
    try:
        tps = [TopicPartition(topic, i) for i in range(4)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        got = poll_all(c, 800)
    finally:
        c.close()
    for part in range(4):
        check_seq('partition %d (offset, key, value)' % part, per[part],
                  [(r.offset, r.key, r.value) for r in got if r.partition == part])


@suite.case
def broker_rejects_oversized_record():
    topic = 'kp-limits'
    a = admin()
    try:
        create_ok(a, topic, 1, {'max.message.bytes': '10000'})
    finally:
        a.close()
    p = producer(max_request_size=5 * 1024 * 1024)
    try:
        ok = p.send(topic, key=b'small', value=b'x' * 100).get(timeout=30)
        check_eq('small record offset', 0, ok.offset)
        f = p.send(topic, key=b'big', value=os.urandom(50000))
        try:
            f.get(timeout=30)
            raise Failure('a 50000-byte record on a topic with max.message.bytes=10000 was accepted')
        except Errors.MessageSizeTooLargeError:
            pass
    finally:
        p.close()


if __name__ == '__main__':
    suite.main()
