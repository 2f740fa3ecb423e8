"""confluent-kafka-python (librdkafka) against a real Samsa broker.

Covers: AdminClient create_topics (plus validate_only, duplicates, invalid names and
configs), create_partitions, delete_topics, list_topics as the cluster description;
Producer with every compression.type, delivery reports (offsets in order), keys, values,
null keys/values, per-message headers (duplicates, null values), explicit timestamps;
Consumer with assign() (no consumer group: Samsa has no group coordinator yet) reading
everything back, seeking, watermarks, offsets_for_times; acks=0/1/all; broker-side
rejections (max.message.bytes, timestamps too far in the future); LogAppendTime topics.

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP). Debian's /usr/bin/python3.
"""
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, check_seq, bootstrap, broker_port, short  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic, NewPartitions  # noqa: E402

BS = bootstrap()
suite = Suite('confluent-kafka-python %s (librdkafka %s)' % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))

CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
N = 2000
# Consumers must carry a group.id (confluent-kafka refuses to build one without it), but
# we only assign() and never commit, so no group coordinator is needed.
UNUSED_GROUP = 'samsa-compat-unused-group'

# Errors reported through error_cb by any client of this suite, checked by some cases.
client_errors = []


def on_error(err):
    client_errors.append(err)


class _LogCollector(logging.Handler):
    """librdkafka's log lines, kept for failure messages instead of flooding stderr."""

    def __init__(self):
        logging.Handler.__init__(self)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def recent(self, since=0, limit=6):
        seen = []
        for line in self.lines[since:]:
            if line not in seen:
                seen.append(line)
        return seen[-limit:]


LOGS = _LogCollector()
RDKAFKA_LOGGER = logging.getLogger('samsa-compat.librdkafka')
RDKAFKA_LOGGER.addHandler(LOGS)
RDKAFKA_LOGGER.setLevel(logging.DEBUG)
RDKAFKA_LOGGER.propagate = False


_admin = None


def admin():
    # One shared client: an AdminClient garbage-collected while its futures are pending
    # resolves them with a broken KafkaError (confluent-kafka 1.7), so keep it alive.
    global _admin
    if _admin is None:
        _admin = AdminClient({'bootstrap.servers': BS, 'error_cb': on_error, 'logger': RDKAFKA_LOGGER})
    return _admin


def producer(**conf):
    c = {'bootstrap.servers': BS, 'linger.ms': 20, 'error_cb': on_error, 'logger': RDKAFKA_LOGGER}
    c.update({k.replace('_', '.'): v for k, v in conf.items()})
    return Producer(c)


def consumer(**conf):
    c = {
        'bootstrap.servers': BS,
        'group.id': UNUSED_GROUP,
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': True,
        'error_cb': on_error,
        'logger': RDKAFKA_LOGGER,
    }
    c.update({k.replace('_', '.'): v for k, v in conf.items()})
    return Consumer(c)


def wait_futures(futures, timeout=30):
    """{name: future} -> {name: None | KafkaError}."""
    out = {}
    for name, f in futures.items():
        try:
            f.result(timeout=timeout)
            out[name] = None
        except KafkaException as e:
            out[name] = e.args[0]
    return out


def create_topics(topics, **kw):
    res = wait_futures(admin().create_topics(topics, operation_timeout=10, request_timeout=15, **kw))
    return res


def create_ok(name, partitions=1, config=None):
    res = create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})])
    check_eq('create_topics(%s) error' % name, None, res[name])


def err_code(err):
    return None if err is None else err.code()


def produce_all(p, topic, messages, partition=None):
    """messages: list of dicts(key, value, headers, timestamp). Returns delivery reports in callback order."""
    reports = []

    def dr(err, msg):
        reports.append((err, msg.topic(), msg.partition(), msg.offset(), msg.key(), msg.timestamp(), msg.value()))

    for m in messages:
        kw = {}
        if partition is not None:
            kw['partition'] = partition
        if m.get('headers') is not None:
            kw['headers'] = m['headers']
        if m.get('timestamp') is not None:
            kw['timestamp'] = m['timestamp']
        while True:
            try:
                p.produce(topic, value=m.get('value'), key=m.get('key'), on_delivery=dr, **kw)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    check_eq('messages left in the producer queue after flush(60)', 0, left)
    check_eq('delivery reports received', len(messages), len(reports))
    errors = [(i, str(r[0])) for i, r in enumerate(reports) if r[0] is not None]
    check_eq('delivery report errors (index, error)', [], errors[:5])
    return reports


def consume_all(assignments, expected_count, timeout=60, **conf):
    """assign() and poll until every assigned partition reported EOF with expected_count
    messages in total. Returns the messages in arrival order."""
    c = consumer(**conf)
    logs_from = len(LOGS.lines)
    try:
        c.assign(assignments)
        got = []
        eof = set()
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add((m.topic(), m.partition()))
                    if len(eof) == len(assignments) and len(got) >= expected_count:
                        break
                    continue
                raise Failure('consumer error: %s' % m.error())
            eof.discard((m.topic(), m.partition()))
            got.append(m)
        else:
            raise Failure('timed out after %ss: consumed %d of %d messages, EOF on %s; librdkafka logged:\n        %s'
                          % (timeout, len(got), expected_count, sorted(eof),
                             '\n        '.join(LOGS.recent(logs_from)) or '(nothing)'))
        return got
    finally:
        c.close()


def codec_messages(codec, base_ts):
    msgs = []
    for i in range(N):
        key = None if i % 50 == 0 else (bytes([i % 256, 0, 255, 1]) if i % 13 == 0 else ('key-%05d' % i).encode())
        if i % 77 == 0:
            value = None
        elif i % 97 == 0:
            value = b''
        else:
            value = ('value-%d-%s-' % (i, codec)).encode() + b'0123456789' * (i % 31) + bytes([i % 256])
        if i % 10 == 0:
            headers = None
        else:
            # No None header values here: confluent-kafka 1.7.0's Message.headers() returns
            # them without a reference (refcount bug: "Fatal Python error: none_dealloc"
            # after a few thousand). The kcat suite covers null header values.
            headers = [('i', str(i).encode()), ('dup', b'a'), ('dup', b'b'), ('empty', b''), ('bin', bytes([0, i % 256]))]
        timestamp = None if i % 3 == 0 else base_ts + i
        msgs.append({'key': key, 'value': value, 'headers': headers, 'timestamp': timestamp})
    return msgs


# ---------------------------------------------------------------------------- admin


@suite.case
def admin_list_topics_describes_cluster():
    md = admin().list_topics(timeout=10)
    check('cluster_id is a non-empty string', isinstance(md.cluster_id, str) and len(md.cluster_id) > 0, short(md.cluster_id))
    check_eq('controller_id', 1, md.controller_id)
    check_eq('brokers (id -> host:port)', {1: ('127.0.0.1', broker_port())},
             {b.id: (b.host, b.port) for b in md.brokers.values()})
    check_eq('orig_broker_id', 1, md.orig_broker_id)


@suite.case
def admin_create_topics():
    res = create_topics([
        NewTopic('cf-admin-one', num_partitions=1, replication_factor=1),
        NewTopic('cf-admin-three', num_partitions=3, replication_factor=1),
        NewTopic('cf-admin-config', num_partitions=2, replication_factor=1,
                 config={'retention.ms': '3600000', 'cleanup.policy': 'delete'}),
    ])
    check_eq('create_topics errors', {'cf-admin-one': None, 'cf-admin-three': None, 'cf-admin-config': None}, res)
    md = admin().list_topics(timeout=10)
    for name, n in (('cf-admin-one', 1), ('cf-admin-three', 3), ('cf-admin-config', 2)):
        check('%s listed' % name, name in md.topics, 'topics: %s' % sorted(md.topics))
        t = md.topics[name]
        check_eq('%s error' % name, None, t.error)
        check_eq('%s partitions (id, leader, replicas, isrs, error)' % name,
                 [(i, 1, [1], [1], None) for i in range(n)],
                 sorted((p.id, p.leader, list(p.replicas), list(p.isrs), p.error) for p in t.partitions.values()))
    one = admin().list_topics(topic='cf-admin-three', timeout=10)
    check_eq('list_topics(topic=cf-admin-three) topics', ['cf-admin-three'], sorted(one.topics))


@suite.case
def admin_create_topics_errors():
    create_ok('cf-admin-dup')
    res = create_topics([NewTopic('cf-admin-dup', num_partitions=1, replication_factor=1)])
    check_eq('creating an existing topic', KafkaError.TOPIC_ALREADY_EXISTS, err_code(res['cf-admin-dup']))
    res = create_topics([NewTopic('bad name!', num_partitions=1, replication_factor=1)])
    check_eq('invalid topic name -> INVALID_TOPIC_EXCEPTION (17)', 17, err_code(res['bad name!']))
    res = create_topics([NewTopic('cf-admin-rf3', num_partitions=1, replication_factor=3)])
    check_eq('replication factor 3 on one broker -> INVALID_REPLICATION_FACTOR (38)', 38, err_code(res['cf-admin-rf3']))
    res = create_topics([NewTopic('cf-admin-badcfg', num_partitions=1, replication_factor=1, config={'no.such.config': '1'})])
    check_eq('unknown config -> INVALID_CONFIG (40)', 40, err_code(res['cf-admin-badcfg']))
    res = create_topics([NewTopic('cf-admin-badval', num_partitions=1, replication_factor=1, config={'retention.ms': 'soon'})])
    check_eq('bad config value -> INVALID_CONFIG (40)', 40, err_code(res['cf-admin-badval']))
    res = create_topics([NewTopic('cf-admin-validate', num_partitions=2, replication_factor=1)], validate_only=True)
    check_eq('validate_only create', None, res['cf-admin-validate'])
    md = admin().list_topics(timeout=10)
    for name in ('cf-admin-validate', 'cf-admin-rf3', 'cf-admin-badcfg', 'cf-admin-badval', 'bad name!'):
        check('%s must not exist' % name, name not in md.topics, 'topics: %s' % sorted(md.topics))


@suite.case
def admin_create_partitions():
    create_ok('cf-grow', 1)
    res = wait_futures(admin().create_partitions([NewPartitions('cf-grow', 4)], operation_timeout=10, request_timeout=15))
    check_eq('create_partitions(cf-grow -> 4)', {'cf-grow': None}, res)
    md = admin().list_topics(topic='cf-grow', timeout=10)
    check_eq('cf-grow partition ids after growing', [0, 1, 2, 3], sorted(md.topics['cf-grow'].partitions))
    res = wait_futures(admin().create_partitions([NewPartitions('cf-grow', 2)], operation_timeout=10, request_timeout=15))
    check_eq('shrinking partitions -> INVALID_PARTITIONS', KafkaError.INVALID_PARTITIONS, err_code(res['cf-grow']))
    res = wait_futures(admin().create_partitions([NewPartitions('cf-no-such-topic', 2)], operation_timeout=10, request_timeout=15))
    check_eq('create_partitions on a missing topic -> UNKNOWN_TOPIC_OR_PART',
             KafkaError.UNKNOWN_TOPIC_OR_PART, err_code(res['cf-no-such-topic']))
    # The new partitions take writes and serve reads.
    p = producer()
    msgs = [{'key': b'k%d' % i, 'value': b'v%d' % i} for i in range(4)]
    for part in range(4):
        reports = produce_all(p, 'cf-grow', msgs[part:part + 1], partition=part)
        check_eq('delivery to new partition %d (partition, offset)' % part, [(part, 0)], [(r[2], r[3]) for r in reports])
    got = consume_all([TopicPartition('cf-grow', i, confluent_kafka.OFFSET_BEGINNING) for i in range(4)], 4)
    check_eq('(partition, offset, key, value) read back from all partitions',
             [(i, 0, b'k%d' % i, b'v%d' % i) for i in range(4)],
             sorted((m.partition(), m.offset(), m.key(), m.value()) for m in got))


@suite.case
def admin_delete_topics():
    create_ok('cf-doomed', 2)
    p = producer()
    produce_all(p, 'cf-doomed', [{'key': b'k', 'value': b'old'}], partition=1)
    res = wait_futures(admin().delete_topics(['cf-doomed'], operation_timeout=10, request_timeout=15))
    check_eq('delete_topics(cf-doomed)', {'cf-doomed': None}, res)
    md = admin().list_topics(timeout=10)
    check('cf-doomed gone from list_topics()', 'cf-doomed' not in md.topics, 'topics: %s' % sorted(md.topics))
    res = wait_futures(admin().delete_topics(['cf-doomed'], operation_timeout=10, request_timeout=15))
    check_eq('deleting it again -> UNKNOWN_TOPIC_OR_PART', KafkaError.UNKNOWN_TOPIC_OR_PART, err_code(res['cf-doomed']))
    # Re-created with the same name, it starts empty.
    create_ok('cf-doomed', 2)
    c = consumer()
    try:
        wm = c.get_watermark_offsets(TopicPartition('cf-doomed', 1), timeout=10)
    finally:
        c.close()
    check_eq('watermarks of re-created topic partition 1', (0, 0), wm)


# ------------------------------------------------------------------ produce/consume


def make_codec_case(codec):
    def case():
        topic = 'cf-codec-%s' % codec
        create_ok(topic, 1)
        base_ts = int(time.time() * 1000) - 3600 * 1000  # an hour ago
        msgs = codec_messages(codec, base_ts)
        p = producer(compression_type=codec, batch_num_messages=500)
        t0 = int(time.time() * 1000)
        reports = produce_all(p, topic, msgs)
        t1 = int(time.time() * 1000)
        check_seq('%s delivery reports (partition, offset, key) in produce order' % codec,
                  [(0, i, m['key']) for i, m in enumerate(msgs)],
                  [(r[2], r[3], r[4]) for r in reports])
        got = consume_all([TopicPartition(topic, 0, confluent_kafka.OFFSET_BEGINNING)], N)
        check_seq('%s consumed (partition, offset, key, value, headers)' % codec,
                  [(0, i, m['key'], m['value'], m['headers']) for i, m in enumerate(msgs)],
                  [(m.partition(), m.offset(), m.key(), m.value(), m.headers()) for m in got])
        check_seq('%s explicit timestamps' % codec,
                  [(i, (confluent_kafka.TIMESTAMP_CREATE_TIME, m['timestamp'])) for i, m in enumerate(msgs) if m['timestamp'] is not None],
                  [(i, m.timestamp()) for i, m in enumerate(got) if msgs[i]['timestamp'] is not None])
        bad = [(i, m.timestamp()) for i, m in enumerate(got) if msgs[i]['timestamp'] is None
               and not (m.timestamp()[0] == confluent_kafka.TIMESTAMP_CREATE_TIME and t0 - 1000 <= m.timestamp()[1] <= t1 + 1000)]
        check_eq('%s default timestamps (CreateTime within [%d, %d] +-1s): (index, timestamp) outside' % (codec, t0, t1), [], bad[:5])
    case.__name__ = 'produce_consume_%s' % codec
    return case


for _codec in CODECS:
    suite.case(make_codec_case(_codec))


@suite.case
def multi_partition_keyed_produce_and_consume():
    topic = 'cf-multi'
    create_ok(topic, 3)
    msgs = [{'key': ('user-%d' % (i % 37)).encode(), 'value': ('event-%d' % i).encode()} for i in range(900)]
    p = producer(compression_type='lz4')
    reports = produce_all(p, topic, msgs)
    by_part = {}
    for r in reports:
        by_part.setdefault(r[2], []).append(r)
    check_eq('partitions that received messages', [0, 1, 2], sorted(by_part))
    for part, rs in by_part.items():
        check_seq('partition %d delivery offsets' % part, list(range(len(rs))), [r[3] for r in rs])
    # Same key -> same partition.
    key_parts = {}
    for r in reports:
        key_parts.setdefault(r[4], set()).add(r[2])
    check_eq('keys that landed on more than one partition', [], sorted(k for k, v in key_parts.items() if len(v) > 1))
    got = consume_all([TopicPartition(topic, i, confluent_kafka.OFFSET_BEGINNING) for i in range(3)], 900)
    check_eq('delivery reports cover every message once', sorted(m['value'] for m in msgs), sorted(r[6] for r in reports))
    for part in range(3):
        mine = [m for m in got if m.partition() == part]
        check_seq('partition %d consumed (offset, key, value)' % part,
                  [(r[3], r[4], r[6]) for r in by_part[part]],
                  [(m.offset(), m.key(), m.value()) for m in mine])


def fill_timestamped(topic, count=300):
    """count messages with timestamps base + 10*i (ten minutes ago), in few big batches."""
    create_ok(topic, 1)
    base = int(time.time() * 1000) - 600 * 1000
    msgs = [{'key': b'k%d' % i, 'value': b'v%d' % i, 'timestamp': base + 10 * i} for i in range(count)]
    produce_all(producer(), topic, msgs)
    return base


@suite.case
def watermarks_and_offsets_for_times():
    topic = 'cf-times'
    base = fill_timestamped(topic)
    c = consumer()
    try:
        check_eq('get_watermark_offsets (low, high)', (0, 300), c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10))
        res = c.offsets_for_times([TopicPartition(topic, 0, base - 99999)], timeout=10)
        check_eq('offsets_for_times(before everything)', [(0, 0)], [(r.partition, r.offset) for r in res])
        res = c.offsets_for_times([TopicPartition(topic, 0, base + 10 * 300 + 1)], timeout=10)
        check_eq('offsets_for_times(after everything) -> -1 (end)', [(0, -1)], [(r.partition, r.offset) for r in res])
        # Kafka answers the exact offset of the first record with timestamp >= the target,
        # even inside a multi-record batch.
        res = c.offsets_for_times([TopicPartition(topic, 0, base + 505)], timeout=10)
        check_eq('offsets_for_times(ts between offsets 50 and 51) -> first offset with ts >= it', [(0, 51, None)],
                 [(r.partition, r.offset, r.error) for r in res])
        res = c.offsets_for_times([TopicPartition(topic, 0, base + 10 * 123)], timeout=10)
        check_eq('offsets_for_times(exact ts of offset 123)', [(0, 123)], [(r.partition, r.offset) for r in res])
    finally:
        c.close()


@suite.case
def assign_at_offset_seek_and_position():
    topic = 'cf-seek'
    fill_timestamped(topic)
    got = consume_all([TopicPartition(topic, 0, 250)], 50)
    check_seq('assign at offset 250', [(250 + i, b'k%d' % (250 + i)) for i in range(50)], [(m.offset(), m.key()) for m in got])
    got = consume_all([TopicPartition(topic, 0, confluent_kafka.OFFSET_END)], 0)
    check_eq('assign at OFFSET_END returns nothing', [], [m.offset() for m in got])
    # seek() on a live assignment, then position().
    c = consumer()
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        first = None
        deadline = time.time() + 20
        while first is None and time.time() < deadline:
            m = c.poll(0.2)
            if m is not None and not m.error():
                first = m
        check_eq('first message after assign at 0', (0, b'k0'), first and (first.offset(), first.key()))
        c.seek(TopicPartition(topic, 0, 200))
        after = None
        deadline = time.time() + 20
        while after is None and time.time() < deadline:
            m = c.poll(0.2)
            if m is not None and not m.error():
                after = m
        check_eq('first message after seek(200)', (200, b'k200'), after and (after.offset(), after.key()))
        pos = c.position([TopicPartition(topic, 0)])
        check_eq('position() after consuming offset 200', [201], [t.offset for t in pos])
    finally:
        c.close()


@suite.case
def out_of_range_offset_resets():
    topic = 'cf-range'
    create_ok(topic, 1)
    produce_all(producer(), topic, [{'key': b'k%d' % i, 'value': b'v'} for i in range(10)])
    # auto.offset.reset=earliest: an offset past the end is out of range and resets to 0.
    got = consume_all([TopicPartition(topic, 0, 5000)], 10, timeout=15, auto_offset_reset='earliest')
    check_seq('offsets read after assigning offset 5000 with auto.offset.reset=earliest', list(range(10)), [m.offset() for m in got])
    # auto.offset.reset=error surfaces OFFSET_OUT_OF_RANGE.
    c = consumer(auto_offset_reset='error')
    try:
        c.assign([TopicPartition(topic, 0, 5000)])
        seen = None
        logs_from = len(LOGS.lines)
        deadline = time.time() + 15
        while seen is None and time.time() < deadline:
            m = c.poll(0.2)
            if m is not None:
                seen = m
        check('a message or error after assigning offset 5000', seen is not None,
              'nothing within 15s; librdkafka logged: %s' % LOGS.recent(logs_from))
        check_eq('error for an out-of-range fetch with auto.offset.reset=error',
                 KafkaError._AUTO_OFFSET_RESET, seen.error() and seen.error().code())
        check('error text names the out-of-range offset', 'out of range' in str(seen.error()).lower(), str(seen.error()))
    finally:
        c.close()


@suite.case
def acks_variants():
    topic = 'cf-acks'
    create_ok(topic, 1)
    expected = []
    for acks in ('0', '1', 'all'):
        msgs = [{'key': ('%s-%d' % (acks, i)).encode(), 'value': b'x' * i} for i in range(100)]
        reports = produce_all(producer(acks=acks), topic, msgs)
        if acks == '0':
            # With acks=0 there is no response, so librdkafka cannot know offsets.
            check_eq('acks=0 delivery report offsets', [None] * 100, [r[3] for r in reports])
        else:
            check_seq('acks=%s delivery offsets' % acks, list(range(len(expected), len(expected) + 100)), [r[3] for r in reports])
        expected += msgs
    got = consume_all([TopicPartition(topic, 0, confluent_kafka.OFFSET_BEGINNING)], 300)
    check_seq('acks=0/1/all messages read back (offset, key, value)',
              [(i, m['key'], m['value']) for i, m in enumerate(expected)],
              [(m.offset(), m.key(), m.value()) for m in got])


@suite.case
def broker_rejects_oversized_and_future_messages():
    topic = 'cf-limits'
    create_ok(topic, 1, config={'max.message.bytes': '20000'})
    p = producer(message_max_bytes=5000000, retries=0, acks='all')
    reports = []

    def dr(err, msg):
        reports.append((err.code() if err else None, msg.offset()))

    p.produce(topic, value=b'a' * 1000, key=b'small', on_delivery=dr)
    p.flush(30)
    p.produce(topic, value=os.urandom(100000), key=b'too-big', on_delivery=dr)
    p.flush(30)
    p.produce(topic, value=b'future', key=b'future', timestamp=int(time.time() * 1000) + 2 * 3600 * 1000, on_delivery=dr)
    p.flush(30)
    check_eq('delivery results (error code, offset): ok / MSG_SIZE_TOO_LARGE / INVALID_TIMESTAMP',
             [(None, 0), (KafkaError.MSG_SIZE_TOO_LARGE, None), (KafkaError.INVALID_TIMESTAMP, None)], reports)
    c = consumer()
    try:
        check_eq('watermarks after rejected produces', (0, 1), c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10))
    finally:
        c.close()


@suite.case
def log_append_time_topic():
    topic = 'cf-logappend'
    create_ok(topic, 1, config={'message.timestamp.type': 'LogAppendTime'})
    old = int(time.time() * 1000) - 86400 * 1000
    t0 = int(time.time() * 1000)
    reports = produce_all(producer(), topic, [{'key': b'k%d' % i, 'value': b'v', 'timestamp': old} for i in range(5)])
    t1 = int(time.time() * 1000)
    got = consume_all([TopicPartition(topic, 0, confluent_kafka.OFFSET_BEGINNING)], 5)
    stamps = [m.timestamp() for m in got]
    check_eq('timestamp types on a LogAppendTime topic', [confluent_kafka.TIMESTAMP_LOG_APPEND_TIME] * 5, [s[0] for s in stamps])
    check('log append timestamps are broker time, not the producer\'s %d' % old,
          all(t0 - 1000 <= s[1] <= t1 + 1000 for s in stamps), 'got %s, expected within [%d, %d]' % (stamps, t0, t1))
    check_eq('delivery report timestamp types', [confluent_kafka.TIMESTAMP_LOG_APPEND_TIME] * 5, [r[5][0] for r in reports])


@suite.case
def consumer_without_coordinator_has_no_fatal_errors():
    # Every consumer above carried a group.id while the broker has no FindCoordinator.
    # librdkafka may report the missing coordinator; it must not be fatal, and nothing
    # else (transport failures, unknown errors) may have been reported.
    fatal = [str(e) for e in client_errors if e.fatal()]
    check_eq('fatal client errors', [], fatal)
    others = [str(e) for e in client_errors
              if e.code() not in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)]
    if others:
        print('      note: non-fatal client errors reported: %s' % short(others, 1000))
    transport = [str(e) for e in client_errors if e.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)]
    check_eq('transport errors (the broker closed a connection)', [], transport)


if __name__ == '__main__':
    suite.main()
