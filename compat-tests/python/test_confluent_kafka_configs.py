"""confluent-kafka-python (librdkafka) AdminClient config administration and the storage
lifecycle against a real Samsa broker.

Covers: describe_configs of topics (values, sources, defaults, synonyms) and of the broker;
alter_configs of topics (validation errors as Kafka's, whole-set replacement) and of the
broker's dynamic settings; compaction seen by a Consumer (the cleaner's backoff lowered
through a dynamic broker config); DeleteRecords (through the wire: confluent-kafka 1.7 has
no delete_records) and a Consumer positioned below the new start being reset by
auto.offset.reset. confluent-kafka 1.7 has no incremental_alter_configs: the jest suite
covers IncrementalAlterConfigs.

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP). Debian's /usr/bin/python3.
"""
import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Skip, check, check_eq, bootstrap, wait_until  # noqa: E402
import wire  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic, ConfigResource, ConfigSource  # noqa: E402

BS = bootstrap()
suite = Suite('confluent-kafka-python %s configs and lifecycle' % confluent_kafka.version()[0])
RESOURCE_TOPIC = ConfigResource.Type.TOPIC
RESOURCE_BROKER = ConfigResource.Type.BROKER

_admin = None


def admin():
    # One client for the whole suite (see test_confluent_kafka.py on 1.7's pending futures).
    global _admin
    if _admin is None:
        _admin = AdminClient({'bootstrap.servers': BS})
    return _admin


def result(futures, timeout=30):
    """{resource: future} -> {resource: value or KafkaError}."""
    out = {}
    for k, f in futures.items():
        try:
            out[k] = f.result(timeout=timeout)
        except KafkaException as e:
            out[k] = e.args[0]
    return out


def create(name, config=None, partitions=1):
    res = result(admin().create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})], operation_timeout=10))
    check_eq('create_topics(%s) error' % name, None, res[name])


def describe(type_, name):
    res = list(result(admin().describe_configs([ConfigResource(type_, name)])).values())[0]
    if isinstance(res, KafkaError):
        raise KafkaException(res)
    return res


def alter(type_, name, values):
    res = list(result(admin().alter_configs([ConfigResource(type_, name, set_config=values)])).values())[0]
    return res if isinstance(res, KafkaError) else None


def source_name(entry):
    s = entry.source
    return ConfigSource(s).name if isinstance(s, int) else s.name


def delete_records(topic, partition, offset):
    """DeleteRecords v0 on the wire -> (low_watermark, error_code)."""
    body = struct.pack('>i', 1) + wire._string(topic) + struct.pack('>iiq', 1, partition, offset) + struct.pack('>i', 10000)
    r = wire._request(21, 0, body)
    r.take('>i')  # throttle
    r.take('>i')
    r.string()
    r.take('>i')
    r.take('>i')  # partition
    low = r.take('>q')
    code = r.take('>h')
    return low, code


@suite.case
def describe_configs_topic_values_sources_and_synonyms():
    create('cc-describe', {'cleanup.policy': 'compact', 'retention.ms': '3600000'})
    cfg = describe(RESOURCE_TOPIC, 'cc-describe')
    check('every common topic config is described', {'retention.ms', 'segment.bytes', 'cleanup.policy', 'min.cleanable.dirty.ratio', 'delete.retention.ms', 'compression.type'} <= set(cfg))
    check_eq('cleanup.policy value', 'compact', cfg['cleanup.policy'].value)
    check_eq('cleanup.policy source', 'DYNAMIC_TOPIC_CONFIG', source_name(cfg['cleanup.policy']))
    check_eq('retention.ms value', '3600000', cfg['retention.ms'].value)
    check_eq('segment.bytes default', '1073741824', cfg['segment.bytes'].value)
    check_eq('segment.bytes source', 'DEFAULT_CONFIG', source_name(cfg['segment.bytes']))
    check('segment.bytes is_default', cfg['segment.bytes'].is_default)
    check('nothing read-only or sensitive', not any(e.is_read_only or e.is_sensitive for e in cfg.values()))
    # As Kafka: broker synonyms are listed from the topic config's own broker key
    # (log.retention.ms, unset) on, so the default log.retention.hours is not among them.
    syn = cfg['retention.ms'].synonyms
    check_eq('retention.ms synonyms', ['retention.ms'], list(syn))
    check_eq('cleanup.policy synonyms', ['cleanup.policy', 'log.cleanup.policy'], list(cfg['cleanup.policy'].synonyms))


@suite.case
def describe_configs_broker():
    cfg = describe(RESOURCE_BROKER, '1')
    check_eq('node.id', '1', cfg['node.id'].value)
    check('node.id is read-only', cfg['node.id'].is_read_only)
    check_eq('log.retention.hours', '168', cfg['log.retention.hours'].value)
    check('log.retention.ms can change dynamically', not cfg['log.retention.ms'].is_read_only)
    check_eq('log.cleaner.backoff.ms', '15000', cfg['log.cleaner.backoff.ms'].value)


@suite.case
def alter_configs_topic_replaces_and_validates():
    create('cc-alter', {'retention.ms': '1000'})
    check_eq('alter error', None, alter(RESOURCE_TOPIC, 'cc-alter', {'segment.bytes': '1048576', 'max.message.bytes': '2000000'}))
    cfg = describe(RESOURCE_TOPIC, 'cc-alter')
    check_eq('segment.bytes', '1048576', cfg['segment.bytes'].value)
    check_eq('max.message.bytes', '2000000', cfg['max.message.bytes'].value)
    check_eq('retention.ms back to the default (not in the new set)', '604800000', cfg['retention.ms'].value)
    err = alter(RESOURCE_TOPIC, 'cc-alter', {'retention.ms': 'forever'})
    check_eq('bad value error', KafkaError.INVALID_CONFIG, err.code() if err else None)
    err = alter(RESOURCE_TOPIC, 'cc-alter', {'no.such.config': '1'})
    check_eq('unknown name error', KafkaError.INVALID_CONFIG, err.code() if err else None)
    err = alter(RESOURCE_TOPIC, 'cc-no-such-topic', {'retention.ms': '1'})
    check_eq('unknown topic error', KafkaError.UNKNOWN_TOPIC_OR_PART, err.code() if err else None)
    check_eq('refused changes left the topic alone', '1048576', describe(RESOURCE_TOPIC, 'cc-alter')['segment.bytes'].value)


@suite.case
def alter_configs_broker_dynamic_and_read_only():
    err = alter(RESOURCE_BROKER, '1', {'num.partitions': '4'})
    check_eq('read-only broker setting refused', KafkaError.INVALID_REQUEST, err.code() if err else None)
    check_eq('dynamic broker setting accepted', None, alter(RESOURCE_BROKER, '1', {'log.cleaner.backoff.ms': '100'}))
    cfg = describe(RESOURCE_BROKER, '1')
    check_eq('log.cleaner.backoff.ms', '100', cfg['log.cleaner.backoff.ms'].value)
    check_eq('its source', 'DYNAMIC_BROKER_CONFIG', source_name(cfg['log.cleaner.backoff.ms']))


@suite.case
def alter_configs_broker_accepts_every_kafka_dynamic_name():
    # librdkafka's broker-config test sets Kafka dynamic names Samsa has no use for (Kerberos,
    # thread pools); they are kept and reported, and only names Kafka does not know are refused.
    values = {
        'log.cleaner.backoff.ms': '100',
        'sasl.kerberos.min.time.before.relogin': '58000',
        'num.io.threads': '4',
        'max.connections.per.ip': '1000',
        'listener.name.plaintext.sasl.enabled.mechanisms': 'PLAIN',
    }
    check_eq('Kafka dynamic names accepted', None, alter(RESOURCE_BROKER, '1', values))
    cfg = describe(RESOURCE_BROKER, '1')
    for name, value in values.items():
        check(name + ' described', name in cfg, sorted(k for k in cfg if k.startswith('listener.name.')))
        check_eq(name, value, cfg[name].value)
        check_eq(name + ' source', 'DYNAMIC_BROKER_CONFIG', source_name(cfg[name]))
    err = alter(RESOURCE_BROKER, '1', {'log.cleaner.backoff.ms': '100', 'no.such.broker.setting': '1'})
    check_eq('unknown name refused', KafkaError.INVALID_CONFIG, err.code() if err else None)
    err = alter(RESOURCE_BROKER, '1', {'ssl.keystore.location': '/tmp/x.p12'})
    check_eq('key store without a listener prefix refused', KafkaError.INVALID_REQUEST, err.code() if err else None)
    check_eq('restored', None, alter(RESOURCE_BROKER, '1', {'log.cleaner.backoff.ms': '100'}))


def consume(topic, offset, count, timeout=20, **conf):
    c = Consumer(dict({'bootstrap.servers': BS, 'group.id': 'cc-configs-unused', 'enable.auto.commit': False, 'enable.partition.eof': True}, **conf))
    got = []
    try:
        c.assign([TopicPartition(topic, 0, offset)])
        deadline = time.time() + timeout
        while len(got) < count and time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    break  # read up to the high watermark
                raise KafkaException(m.error())
            got.append((m.offset(), m.key().decode() if m.key() else None, m.value().decode() if m.value() is not None else None))
    finally:
        c.close()
    return got


def produce(topic, messages, per_flush=50):
    p = Producer({'bootstrap.servers': BS, 'linger.ms': 5})
    offsets = {}

    def report(err, msg):
        if err is None:
            offsets[msg.offset()] = (msg.key().decode(), msg.value().decode() if msg.value() is not None else None)

    # Flushing every few messages keeps batches (and so segments) small.
    for i, (k, v) in enumerate(messages):
        p.produce(topic, key=k, value=v, partition=0, on_delivery=report)
        if (i + 1) % per_flush == 0:
            p.flush(30)
    p.flush(30)
    return offsets


@suite.case
def compaction_seen_by_a_consumer():
    # The broker's cleaner was set to a 100 ms backoff by alter_configs_broker_dynamic_and_read_only.
    if describe(RESOURCE_BROKER, '1')['log.cleaner.backoff.ms'].value != '100':
        check_eq('cleaner backoff', None, alter(RESOURCE_BROKER, '1', {'log.cleaner.backoff.ms': '100'}))
    create('cc-compact', {'cleanup.policy': 'compact', 'segment.bytes': '2048', 'min.cleanable.dirty.ratio': '0.01'})
    written = produce('cc-compact', [('k%d' % (i % 10), 'v%d-%s' % (i, 'x' * 30)) for i in range(1500)])
    check_eq('all produced', 1500, len(written))
    latest = {}
    for off in sorted(written):
        latest[written[off][0]] = (off, written[off][1])

    def compacted():
        got = consume('cc-compact', 0, 1500, timeout=10)
        return got if len(got) < 200 else None

    got = wait_until('the cleaner to compact cc-compact', compacted, timeout=30, interval=0.5)
    for off, k, v in got:
        check_eq('record at offset %d is what was written there' % off, written[off], (k, v))
    seen = {}
    for off, k, v in got:
        seen[k] = (off, v)
    check_eq('latest value per key at its original offset', latest, seen)


@suite.case
def delete_records_then_consumer_is_reset():
    create('cc-delete', {'segment.bytes': '1024'})
    written = produce('cc-delete', [('k', 'm%d' % i) for i in range(100)])
    check_eq('all produced', 100, len(written))
    low, code = delete_records('cc-delete', 0, 60)
    check_eq('DeleteRecords error', 0, code)
    check_eq('low watermark', 60, low)
    c = Consumer({'bootstrap.servers': BS, 'group.id': 'cc-configs-unused'})
    try:
        lo, hi = c.get_watermark_offsets(TopicPartition('cc-delete', 0), timeout=10)
    finally:
        c.close()
    check_eq('watermarks', (60, 100), (lo, hi))
    # Asking for offset 10 (deleted) with auto.offset.reset=earliest resets to 60.
    got = consume('cc-delete', 10, 40, **{'auto.offset.reset': 'earliest'})
    check_eq('first offset after the reset', 60, got[0][0] if got else None)
    check_eq('records after the reset', ['m%d' % i for i in range(60, 100)], [v for _, _, v in got])
    low, code = delete_records('cc-delete', 0, 500)
    check_eq('DeleteRecords past the high watermark', 1, code)


if __name__ == '__main__':
    suite.main()
