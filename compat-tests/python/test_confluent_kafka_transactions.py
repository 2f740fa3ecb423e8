"""confluent-kafka-python (librdkafka) idempotent and transactional producers against Samsa.

Covers: an idempotent producer whose connections are cut after the broker stored a batch
but before the answer arrived (a proxy drops Produce responses), so librdkafka retries
batches the broker already has: no duplicate, no gap; transactions committed and aborted
in turn over two partitions while a read_committed consumer polls: it only ever sees
committed records, in order, and read_uncommitted sees every record (the markers take
offsets the client skips); a producer fenced by a newer instance with the same
transactional.id gets the fencing error and its open transaction is aborted; a broker
restart (SIGKILL) in the middle of a transaction, after which the transaction commits; a
restart (SIGTERM) after which the abandoned transaction is aborted by
transaction.timeout.ms; consume-transform-produce with send_offsets_to_transaction (the
offsets become visible to the group only on commit).

The restart and proxy cases run their own broker process (dist/src/cli/main.js), the
others use the suite's broker. Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import logging
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, check_seq, bootstrap, wait_until  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaError, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

BS = bootstrap()
HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.path.join(HERE, '..', '..', 'dist', 'src', 'cli', 'main.js')
suite = Suite('confluent-kafka-python %s (librdkafka %s) transactions'
              % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))

LOGGER = logging.getLogger('samsa-compat.librdkafka-txn')
LOGGER.addHandler(logging.NullHandler())
LOGGER.propagate = False

FENCED_CODES = (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH)


# ---------------------------------------------------------------------------- helpers


def create_topic(bs, name, partitions=1):
    a = AdminClient({'bootstrap.servers': bs, 'logger': LOGGER})
    f = a.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)], operation_timeout=10)[name]
    f.result(timeout=20)


def producer(bs, **conf):
    c = {'bootstrap.servers': bs, 'linger.ms': 5, 'logger': LOGGER}
    c.update(conf)
    return Producer(c)


def consumer(bs, **conf):
    c = {
        'bootstrap.servers': bs,
        'group.id': 'samsa-compat-txn-reader',
        'enable.auto.commit': False,
        'enable.partition.eof': True,
        'logger': LOGGER,
    }
    c.update(conf)
    return Consumer(c)


def read_partitions(bs, topic, partitions, isolation, expected, timeout=30):
    """Reads every partition from offset 0 until EOF on all of them with `expected`
    messages in total; returns {partition: [(offset, value)]}."""
    c = consumer(bs, **{'isolation.level': isolation})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in partitions])
        got = {p: [] for p in partitions}
        eof = set()
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    if len(eof) == len(partitions) and sum(len(v) for v in got.values()) >= expected:
                        return got
                    continue
                raise Failure('consumer error: %s' % m.error())
            eof.discard(m.partition())
            got[m.partition()].append((m.offset(), m.value().decode()))
        raise Failure('%s: read %d of %d messages in %ds (EOF on %s)'
                      % (isolation, sum(len(v) for v in got.values()), expected, timeout, sorted(eof)))
    finally:
        c.close()


def values(got):
    return [v for p in sorted(got) for _, v in got[p]]


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class BrokerProcess:
    """A broker of our own (restarts, advertised ports), on a fixed port so clients reconnect."""

    def __init__(self, args=()):
        self.dir = tempfile.mkdtemp(prefix='samsa-compat-txn-')
        self.port = free_port()
        self.args = list(args)
        self.proc = None
        self.start()

    @property
    def bootstrap(self):
        return '127.0.0.1:%d' % self.port

    def start(self):
        self.stderr = open(os.path.join(self.dir, 'stderr'), 'ab')
        self.proc = subprocess.Popen(
            ['node', CLI, 'serve', '--host', '127.0.0.1', '--port', str(self.port), '--http-port', '0', '--data-dir',
             os.path.join(self.dir, 'data')] + self.args,
            stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.proc.stdout.readline().decode()
        if 'listening on' not in line:
            raise Failure('broker did not start: %r; stderr: %s' % (line, self.stderr_tail()))

    def stderr_tail(self):
        with open(os.path.join(self.dir, 'stderr'), 'rb') as f:
            return f.read()[-2000:].decode(errors='replace')

    def stop(self, kill=False):
        if self.proc is None:
            return
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        code = self.proc.wait(15)
        self.proc.stdout.close()
        self.stderr.close()
        self.proc = None
        if not kill and code != 0:
            raise Failure('broker exited with %s on SIGTERM: %s' % (code, self.stderr_tail()))

    def restart(self, kill=False):
        self.stop(kill)
        self.start()

    def close(self):
        try:
            self.stop(kill=True)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class ResponseDroppingProxy:
    """TCP proxy in front of a broker. While armed, every `every`-th Produce response is
    dropped and both connections are closed: the broker has stored the batch, the client
    never hears of it and sends it again."""

    def __init__(self, every):
        self.every = every
        self.armed = False
        self.target = None
        self.responses = 0
        self.dropped = 0
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(('127.0.0.1', self.target))
            except OSError:
                client.close()
                continue
            produce_ids = set()
            threading.Thread(target=self._requests, args=(client, upstream, produce_ids), daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client, produce_ids), daemon=True).start()

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _requests(self, src, dst, produce_ids):
        buf = b''
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 12:
                    size = struct.unpack('>i', buf[:4])[0]
                    if len(buf) < 4 + size:
                        break
                    api_key, _, corr = struct.unpack('>hhi', buf[4:12])
                    if api_key == 0:
                        produce_ids.add(corr)
                    dst.sendall(buf[:4 + size])
                    buf = buf[4 + size:]
        except OSError:
            pass
        self._close(src, dst)

    def _responses(self, src, dst, produce_ids):
        buf = b''
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                while len(buf) >= 8:
                    size = struct.unpack('>i', buf[:4])[0]
                    if len(buf) < 4 + size:
                        break
                    corr = struct.unpack('>i', buf[4:8])[0]
                    if corr in produce_ids:
                        produce_ids.discard(corr)
                        with self.lock:
                            self.responses += 1
                            drop = self.armed and self.responses % self.every == 0
                            if drop:
                                self.dropped += 1
                        if drop:
                            self._close(src, dst)
                            return
                    dst.sendall(buf[:4 + size])
                    buf = buf[4 + size:]
        except OSError:
            pass
        self._close(src, dst)

    def close(self):
        self.listener.close()


def expect_fenced(what, fn):
    try:
        fn()
    except KafkaException as e:
        err = e.args[0]
        check('%s: a fatal fencing error (got %s)' % (what, err), err.code() in FENCED_CODES or err.fatal(), str(err))
        return err
    raise Failure('%s succeeded; a fenced producer must fail' % what)


# ---------------------------------------------------------------------------- idempotence


@suite.case
def idempotent_producer_retries_after_lost_responses_store_no_duplicate_and_no_gap():
    proxy = ResponseDroppingProxy(every=7)
    broker = BrokerProcess(['--advertised-port', str(proxy.port)])
    try:
        proxy.target = broker.port
        bs = '127.0.0.1:%d' % proxy.port
        topic = 'ck-idem-retries'
        create_topic(bs, topic)
        n = 3000
        p = producer(bs, **{'enable.idempotence': True, 'linger.ms': 2, 'batch.num.messages': 40,
                            'retry.backoff.ms': 20, 'message.timeout.ms': 60000,
                            'reconnect.backoff.ms': 10, 'reconnect.backoff.max.ms': 100})
        errors = []

        def dr(err, msg):
            if err is not None:
                errors.append(str(err))

        proxy.armed = True
        for i in range(n):
            while True:
                try:
                    p.produce(topic, value=('m-%05d' % i).encode(), on_delivery=dr)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 100 == 0:
                p.poll(0)
        check_eq('messages left after flush(60)', 0, p.flush(60))
        proxy.armed = False
        check_eq('delivery errors', [], errors[:3])
        check('the proxy dropped Produce responses (so batches were retried)', proxy.dropped >= 3,
              'dropped %d of %d responses' % (proxy.dropped, proxy.responses))
        got = read_partitions(bs, topic, [0], 'read_uncommitted', n)
        check_seq('values in offset order', ['m-%05d' % i for i in range(n)], values(got))
        check_seq('offsets', list(range(n)), [o for o, _ in got[0]])
        c = consumer(bs)
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        c.close()
        check_eq('high watermark: every message stored exactly once', n, hi)
    finally:
        broker.close()
        proxy.close()


# ---------------------------------------------------------------------------- transactions


@suite.case
def transactions_commit_and_abort_in_turn_read_committed_sees_only_committed():
    topic = 'ck-txn-interleaved'
    create_topic(BS, topic, partitions=2)
    p = producer(BS, **{'transactional.id': 'ck-txn-interleaved', 'transaction.timeout.ms': 30000})
    p.init_transactions(30)
    seen_by_live_reader = []
    stop = threading.Event()

    def live_reader():
        c = consumer(BS, **{'isolation.level': 'read_committed', 'enable.partition.eof': False})
        c.assign([TopicPartition(topic, 0, 0), TopicPartition(topic, 1, 0)])
        while not stop.is_set():
            m = c.poll(0.1)
            if m is not None and not m.error():
                seen_by_live_reader.append(m.value().decode())
        c.close()

    reader = threading.Thread(target=live_reader)
    reader.start()
    committed = []
    everything = []
    try:
        for t in range(12):
            commit = t % 2 == 0
            p.begin_transaction()
            for i in range(40):
                v = '%s-t%02d-%02d' % ('commit' if commit else 'abort', t, i)
                p.produce(topic, value=v.encode(), partition=i % 2)
                everything.append(v)
                if commit:
                    committed.append(v)
            if commit:
                p.commit_transaction(30)
            else:
                check_eq('flush before abort (the aborted records must reach the log)', 0, p.flush(30))
                p.abort_transaction(30)
        got = read_partitions(BS, topic, [0, 1], 'read_committed', len(committed))
        for part in (0, 1):
            check_seq('read_committed partition %d' % part, [v for i, v in enumerate(committed) if i % 2 == part],
                      [v for _, v in got[part]])
        raw = read_partitions(BS, topic, [0, 1], 'read_uncommitted', len(everything))
        for part in (0, 1):
            check_seq('read_uncommitted partition %d' % part, [v for i, v in enumerate(everything) if i % 2 == part],
                      [v for _, v in raw[part]])
            offsets = [o for o, _ in raw[part]]
            check('read_uncommitted partition %d: the 12 markers take offsets the client skips' % part,
                  offsets[-1] + 1 - len(offsets) == 11, 'last offset %d for %d records' % (offsets[-1], len(offsets)))
        wait_until('the live read_committed reader to catch up', lambda: len(seen_by_live_reader) >= len(committed))
    finally:
        stop.set()
        reader.join(10)
    check_eq('aborted records seen by the live read_committed reader', [], [v for v in seen_by_live_reader if v.startswith('abort')])
    check_eq('committed records seen by the live reader', sorted(committed), sorted(seen_by_live_reader))


@suite.case
def producer_fenced_by_a_newer_instance_gets_the_fencing_error():
    topic = 'ck-txn-fenced'
    create_topic(BS, topic)
    old = producer(BS, **{'transactional.id': 'ck-txn-fenced'})
    old.init_transactions(30)
    old.begin_transaction()
    old.produce(topic, value=b'zombie-1')
    check_eq('zombie flush', 0, old.flush(30))
    new = producer(BS, **{'transactional.id': 'ck-txn-fenced'})
    new.init_transactions(30)  # aborts the zombie's open transaction and fences it
    new.begin_transaction()
    new.produce(topic, value=b'new-1')
    new.commit_transaction(30)

    def zombie_carries_on():
        old.produce(topic, value=b'zombie-2')
        old.flush(10)
        old.commit_transaction(10)

    expect_fenced('the old instance producing and committing', zombie_carries_on)
    got = read_partitions(BS, topic, [0], 'read_committed', 1)
    check_eq('read_committed sees only the new instance', ['new-1'], values(got))


@suite.case
def broker_killed_mid_transaction_then_the_transaction_commits():
    broker = BrokerProcess()
    try:
        topic = 'ck-txn-restart-commit'
        create_topic(broker.bootstrap, topic)
        p = producer(broker.bootstrap, **{'transactional.id': 'ck-txn-restart', 'transaction.timeout.ms': 60000,
                                          'reconnect.backoff.max.ms': 200})
        p.init_transactions(30)
        p.begin_transaction()
        for i in range(100):
            p.produce(topic, value=('before-%03d' % i).encode())
        check_eq('flush before the crash', 0, p.flush(30))
        broker.restart(kill=True)
        for i in range(100):
            p.produce(topic, value=('after-%03d' % i).encode())
        check_eq('flush after the restart', 0, p.flush(60))
        p.commit_transaction(60)
        expected = ['before-%03d' % i for i in range(100)] + ['after-%03d' % i for i in range(100)]
        got = read_partitions(broker.bootstrap, topic, [0], 'read_committed', 200)
        check_seq('read_committed after the commit', expected, values(got))
    finally:
        broker.close()


@suite.case
def broker_restarted_mid_transaction_then_the_transaction_times_out_and_is_aborted():
    broker = BrokerProcess()
    try:
        topic = 'ck-txn-restart-timeout'
        create_topic(broker.bootstrap, topic)
        p = producer(broker.bootstrap, **{'transactional.id': 'ck-txn-timeout', 'transaction.timeout.ms': 3000,
                                          'reconnect.backoff.max.ms': 200})
        p.init_transactions(30)
        p.begin_transaction()
        for i in range(50):
            p.produce(topic, value=('doomed-%02d' % i).encode())
        check_eq('flush', 0, p.flush(30))
        broker.restart()
        other = producer(broker.bootstrap, **{'enable.idempotence': True})
        for i in range(10):
            other.produce(topic, value=('later-%02d' % i).encode())
        check_eq('flush of the other producer', 0, other.flush(30))
        # The open transaction holds the last stable offset back until the coordinator aborts
        # it: reading the later records at all proves the abort happened.
        got = read_partitions(broker.bootstrap, topic, [0], 'read_committed', 10, timeout=30)
        check_eq('read_committed: only the later records, never the aborted ones', ['later-%02d' % i for i in range(10)], values(got))
        raw = read_partitions(broker.bootstrap, topic, [0], 'read_uncommitted', 60)
        check_eq('read_uncommitted still has the aborted records', 60, len(values(raw)))
        expect_fenced('committing the timed-out transaction', lambda: p.commit_transaction(10))
    finally:
        broker.close()


@suite.case
def consume_transform_produce_offsets_commit_with_the_transaction():
    src, dst, group = 'ck-ctp-in', 'ck-ctp-out', 'ck-ctp-group'
    create_topic(BS, src)
    create_topic(BS, dst)
    n = 60
    feeder = producer(BS)
    for i in range(n):
        feeder.produce(src, value=('in-%02d' % i).encode())
    check_eq('feeder flush', 0, feeder.flush(30))
    c = consumer(BS, **{'group.id': group, 'isolation.level': 'read_committed', 'auto.offset.reset': 'earliest',
                        'enable.partition.eof': False, 'session.timeout.ms': 6000})
    # librdkafka asks for stable offsets (KIP-447) only under read_committed.
    observer = consumer(BS, **{'group.id': group, 'isolation.level': 'read_uncommitted'})
    stable_observer = consumer(BS, **{'group.id': group, 'isolation.level': 'read_committed'})
    p = producer(BS, **{'transactional.id': 'ck-ctp'})
    p.init_transactions(30)

    def committed():
        return observer.committed([TopicPartition(src, 0)], timeout=10)[0].offset

    try:
        c.subscribe([src])
        done = 0
        batch_no = 0
        deadline = time.time() + 60
        while done < n and time.time() < deadline:
            msgs = [m for m in c.consume(10, 1.0) if not m.error()]
            if not msgs:
                continue
            p.begin_transaction()
            for m in msgs:
                p.produce(dst, value=m.value().replace(b'in-', b'out-'))
            positions = c.position(c.assignment())
            p.send_offsets_to_transaction(positions, c.consumer_group_metadata(), 30)
            check_eq('committed offset while the transaction is open', done if done else -1001, committed())
            if batch_no == 0:
                try:
                    stable_observer.committed([TopicPartition(src, 0)], timeout=1)
                    raise Failure('a read_committed consumer got committed offsets while a transactional commit was pending')
                except KafkaException as e:
                    check_eq('require_stable OffsetFetch during the transaction retries UNSTABLE_OFFSET_COMMIT until',
                             KafkaError._TIMED_OUT, e.args[0].code())
            if batch_no == 1:
                # Abort one batch: its output and its offsets vanish; re-read it from the committed offset.
                p.flush(30)
                p.abort_transaction(30)
                check_eq('committed offset after an abort', done, committed())
                c.seek(TopicPartition(src, 0, done))
            else:
                p.commit_transaction(30)
                done = msgs[-1].offset() + 1
                check_eq('committed offset after the commit', done, committed())
            batch_no += 1
        check_eq('input consumed', n, done)
    finally:
        c.close()
        observer.close()
        stable_observer.close()
    got = read_partitions(BS, dst, [0], 'read_committed', n)
    check_seq('output (read_committed): every input exactly once, in order', ['out-%02d' % i for i in range(n)], values(got))


suite.main()
