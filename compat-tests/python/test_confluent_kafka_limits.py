"""confluent-kafka-python (librdkafka) against brokers of this suite's own: a full disk and
Kafka's connection limits, as a librdkafka application sees them.

  full disk (a 24 MiB tmpfs as the data dir; skipped where mount is not permitted):
    librdkafka retries KAFKA_STORAGE_ERROR until message.timeout.ms, then reports
    _MSG_TIMED_OUT; with retries=0 the delivery report carries KAFKA_STORAGE_ERROR itself;
    a consumer reads exactly what was acknowledged; once space returns the same producer
    delivers again without a broker restart; after a restart the log is intact.
  max.connections.per.ip: a connection over the limit is closed at once; librdkafka within
    the limit works.
  connections.max.idle.ms: librdkafka reconnects by itself after an idle close.

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP, used only for the banner).
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, Skip, check, check_eq, check_seq, wait_until  # noqa: E402
from secure_broker import SecureBroker  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

suite = Suite('confluent-kafka-python %s (librdkafka %s): full disk and limits'
              % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))


class PlainBroker(SecureBroker):
    """One PLAINTEXT listener, Kafka settings as --override, data dir optionally on a tmpfs."""
    LISTENERS = ['PLAINTEXT']
    NEEDS_TLS = False

    def __init__(self, prefix, overrides=None, tmpfs_mb=None):
        self.dir = tempfile.mkdtemp(prefix='samsa-compat-%s-' % prefix)
        self.mounted = False
        if tmpfs_mb:
            r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=%dm' % tmpfs_mb, 'tmpfs', self.dir],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                os.rmdir(self.dir)
                raise Skip('cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): %s' % r.stdout.decode().strip())
            self.mounted = True
        self.data = os.path.join(self.dir, 'data')
        self.overrides = overrides or {}
        self.proc = None
        self.addresses = {}
        self.ca_file = None
        self.start()

    def args(self):
        out = ['node', self.cli(), 'serve', '--host', '127.0.0.1', '--port', '0', '--http-port', 'none', '--data-dir', self.data]
        for k, v in self.overrides.items():
            out += ['--override', '%s=%s' % (k, v)]
        return out

    def start(self):
        # The stderr file lives outside a tmpfs that the test fills.
        SecureBroker.start(self)

    def close(self):
        try:
            self.kill()
        finally:
            if self.mounted:
                subprocess.run(['umount', self.dir])
            subprocess.run(['rm', '-rf', self.dir])


def delivered(producer, topic, values, **kw):
    """Produces values, waits for every delivery report; returns [(error or None, offset)]."""
    out = []
    for v in values:
        producer.produce(topic, v, on_delivery=lambda err, msg: out.append((err, msg.offset())), **kw)
    producer.flush(60)
    check_eq('delivery reports', len(values), len(out))
    return out


def consume_all(bootstrap, topic, expected_count, timeout=20):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'samsa-limits-unused', 'enable.auto.commit': False,
                  'enable.partition.eof': True})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    if len(got) >= expected_count:
                        break
                    continue
                raise Failure('consumer error %s' % m.error())
            got.append(m.value())
    finally:
        c.close()
    return got


def fill(path):
    """Writes zeros to `path` until the filesystem is full."""
    with open(path, 'wb', buffering=0) as f:
        chunk = b'\0' * (1 << 20)
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass


@suite.case
def full_disk_storage_error_reads_resume_restart():
    # The broker's stderr file is on the filling disk too: its failed log writes must not stop it.
    broker = PlainBroker('ck-full-disk', tmpfs_mb=24)
    try:
        bs = broker.bootstrap('PLAINTEXT')
        admin = AdminClient({'bootstrap.servers': bs})
        for f in admin.create_topics([NewTopic('disk', 1, 1, config={'segment.bytes': '262144'})]).values():
            f.result(15)
        producer = Producer({'bootstrap.servers': bs, 'linger.ms': 5, 'message.timeout.ms': 4000, 'enable.idempotence': True})
        acked = []
        first = [b'%06d:' % i + os.urandom(20000) for i in range(40)]
        for err, _ in delivered(producer, 'disk', first):
            check('first records delivered', err is None, str(err))
        acked += first

        fill(os.path.join(broker.dir, 'ballast'))
        # Default producer: librdkafka retries KAFKA_STORAGE_ERROR until message.timeout.ms.
        reports = delivered(producer, 'disk', [b'lost-%d' % i for i in range(5)])
        codes = sorted(set(err.code() for err, _ in reports if err is not None))
        check_eq('errors of the idempotent producer on a full disk', [KafkaError._MSG_TIMED_OUT], codes)
        # retries=0: the delivery report names the broker's error.
        strict = Producer({'bootstrap.servers': bs, 'retries': 0, 'message.timeout.ms': 10000})
        reports = delivered(strict, 'disk', [b'strict-lost'])
        check_eq('error with retries=0', KafkaError.KAFKA_STORAGE_ERROR, reports[0][0].code() if reports[0][0] else None)
        del strict

        # Reads keep working and see exactly what was acknowledged.
        try:
            check_seq('records read while the disk is full', acked, consume_all(bs, 'disk', len(acked)))
        except Failure as e:
            raise Failure('%s\n      broker: %s' % (str(e)[:300], broker.stderr_tail(3000)))

        # Space returns: the same idempotent producer delivers again, no broker restart.
        os.remove(os.path.join(broker.dir, 'ballast'))
        after = [b'after-%d' % i for i in range(5)]
        reports = delivered(producer, 'disk', after)
        check('delivered after space returned', all(err is None for err, _ in reports), str(reports))
        check_eq('offsets continue without a gap', list(range(len(acked), len(acked) + 5)), [o for _, o in reports])
        acked += after
        producer.flush(5)
        del producer

        broker.stop()
        broker.start()
        bs = broker.bootstrap('PLAINTEXT')
        check_seq('records read after a restart', acked, consume_all(bs, 'disk', len(acked)))
    finally:
        broker.close()


def raw_connection(bootstrap, source='127.0.0.1'):
    host, port = bootstrap.rsplit(':', 1)
    s = socket.create_connection((host, int(port)), timeout=5, source_address=(source, 0))
    return s


def closed_by_peer(s, timeout=5):
    """True when the broker closes the socket within `timeout` without a word."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b''
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


@suite.case
def max_connections_per_ip():
    broker = PlainBroker('ck-per-ip', overrides={'max.connections.per.ip': 2})
    try:
        bs = broker.bootstrap('PLAINTEXT')
        producer = Producer({'bootstrap.servers': bs})
        reports = delivered(producer, 'per-ip', [b'a', b'b'])
        check('librdkafka within the limit delivers', all(err is None for err, _ in reports), str(reports))
        producer.flush(5)
        del producer
        time.sleep(0.5)
        held = [raw_connection(bs), raw_connection(bs)]
        extra = raw_connection(bs)
        check('a third connection from 127.0.0.1 is closed at once', closed_by_peer(extra))
        for s in held + [extra]:
            s.close()
    finally:
        broker.close()


@suite.case
def idle_connections_are_closed_librdkafka_reconnects():
    broker = PlainBroker('ck-idle', overrides={'connections.max.idle.ms': 1000})
    try:
        bs = broker.bootstrap('PLAINTEXT')
        idle = raw_connection(bs)
        check('an idle connection is closed', closed_by_peer(idle, timeout=8))
        idle.close()
        producer = Producer({'bootstrap.servers': bs})
        check_eq('first delivery', None, delivered(producer, 'idle', [b'x'])[0][0])
        time.sleep(2.5)
        reports = delivered(producer, 'idle', [b'y'])
        check_eq('delivery after the idle close', (None, 1), reports[0])
    finally:
        broker.close()


suite.main()
