"""librdkafka (confluent-kafka-python) clients of the crash soak (see soak.ts).

  librdkafka_client.py ROLE BOOTSTRAP TOPIC OUT_FILE [NAME]

ROLE is one of
  idempotent     enable.idempotence producer; one JSON line per acknowledged record:
                 {"v": value, "p": partition, "o": offset}
  transactional  transactions of a few records over the partitions, most committed, some
                 aborted; one line per finished transaction:
                 {"txn": id, "status": "committed"|"aborted"|"unknown", "values": [...]}
  consumer       group member (group NAME) committing offsets synchronously; one line per
                 acknowledged commit: {"g": group, "p": partition, "o": offset}
  read           read_committed reader from the beginning to the end of every partition;
                 one line per record: {"v": value, "p": partition, "o": offset}
Runs until SIGTERM (read: until the end of the topic), then finishes what is in flight and
exits. Client errors while the broker is down are expected: they are counted, not fatal.
Records carry unique values: "<NAME>/<n>" for idempotent, "<NAME>/t<id>/<i>" in transactions.
"""
import json
import random
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

stopping = False


def on_term(_signum, _frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, on_term)

ROLE, BOOTSTRAP, TOPIC, OUT = sys.argv[1:5]
NAME = sys.argv[5] if len(sys.argv) > 5 else ROLE
out = open(OUT, 'a', buffering=1)
errors = 0


def emit(obj):
    out.write(json.dumps(obj) + '\n')


def idempotent():
    global errors
    acked_pending = [0]

    def delivered(err, msg):
        global errors
        acked_pending[0] -= 1
        if err is not None:
            errors += 1
            return
        emit({'v': msg.value().decode(), 'p': msg.partition(), 'o': msg.offset()})

    p = Producer({
        'bootstrap.servers': BOOTSTRAP,
        'enable.idempotence': True,
        'acks': 'all',
        'linger.ms': 5,
        # Keep retrying through broker restarts: every record should end up acknowledged.
        'message.timeout.ms': 600000,
        'reconnect.backoff.max.ms': 500,
    })
    n = 0
    while not stopping:
        if acked_pending[0] < 500:
            for _ in range(20):
                p.produce(TOPIC, value=('%s/%d' % (NAME, n)).encode(), key=str(n % 16).encode(), on_delivery=delivered)
                acked_pending[0] += 1
                n += 1
        p.poll(0.02)
    left = p.flush(120)
    emit({'sent': n, 'unflushed': left, 'errors': errors})


def transactional():
    global errors
    partitions = None

    def new_producer():
        tp = Producer({
            'bootstrap.servers': BOOTSTRAP,
            'transactional.id': 'soak-' + NAME,
            'transaction.timeout.ms': 20000,
            'message.timeout.ms': 20000,
            'reconnect.backoff.max.ms': 500,
        })
        deadline = time.time() + 120
        while True:
            try:
                tp.init_transactions(20)
                return tp
            except KafkaException as e:
                if time.time() > deadline or e.args[0].fatal():
                    raise
                time.sleep(0.5)

    p = new_producer()
    md = p.list_topics(TOPIC, timeout=30)
    partitions = sorted(md.topics[TOPIC].partitions.keys())
    txn = 0
    while not stopping:
        txn += 1
        values = []
        commit = random.random() < 0.8
        status = 'unknown'
        try:
            p.begin_transaction()
            for i in range(random.randint(2, 8)):
                v = '%s/t%d/%d' % (NAME, txn, i)
                p.produce(TOPIC, value=v.encode(), partition=partitions[i % len(partitions)])
                values.append(v)
            if commit:
                for attempt in range(20):
                    try:
                        p.commit_transaction(20)
                        status = 'committed'
                        break
                    except KafkaException as e:
                        if e.args[0].retriable() and attempt < 19:
                            time.sleep(0.3)
                            continue
                        raise
            else:
                p.abort_transaction(20)
                status = 'aborted'
        except KafkaException as e:
            errors += 1
            err = e.args[0]
            if err.txn_requires_abort():
                try:
                    p.abort_transaction(20)
                    status = 'aborted'
                except KafkaException:
                    pass
            if status == 'unknown':
                # Fatal, or abort impossible: a new instance fences this one and aborts any open transaction.
                try:
                    p = new_producer()
                except KafkaException:
                    time.sleep(1)
                    p = new_producer()
        except BufferError:
            errors += 1
        emit({'txn': txn, 'status': status, 'values': values})
    emit({'transactions': txn, 'errors': errors})


def consumer():
    global errors
    c = Consumer({
        'bootstrap.servers': BOOTSTRAP,
        'group.id': NAME,
        'enable.auto.commit': False,
        'auto.offset.reset': 'earliest',
        'session.timeout.ms': 10000,
        'reconnect.backoff.max.ms': 500,
    })
    c.subscribe([TOPIC])
    positions = {}
    last_commit = time.time()
    while not stopping:
        msg = c.poll(0.2)
        if msg is not None:
            if msg.error():
                errors += 1
            else:
                positions[msg.partition()] = msg.offset() + 1
        if positions and time.time() - last_commit > 0.5:
            offsets = [TopicPartition(TOPIC, p, o) for p, o in positions.items()]
            try:
                done = c.commit(offsets=offsets, asynchronous=False)
                for tp in done or []:
                    if tp.error is None:
                        emit({'g': NAME, 'p': tp.partition, 'o': tp.offset})
                positions = {}
            except KafkaException:
                errors += 1
            last_commit = time.time()
    c.close()
    emit({'consumerErrors': errors})


def read():
    c = Consumer({
        'bootstrap.servers': BOOTSTRAP,
        'group.id': 'soak-reader-%d' % random.randint(0, 1 << 30),
        'enable.auto.commit': False,
        'isolation.level': 'read_committed',
        'enable.partition.eof': True,
    })
    md = c.list_topics(TOPIC, timeout=30)
    parts = sorted(md.topics[TOPIC].partitions.keys())
    c.assign([TopicPartition(TOPIC, p, 0) for p in parts])
    at_end = set()
    deadline = time.time() + 120
    while len(at_end) < len(parts) and time.time() < deadline:
        msg = c.poll(0.5)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
            continue
        at_end.discard(msg.partition())
        emit({'v': msg.value().decode(), 'p': msg.partition(), 'o': msg.offset()})
    emit({'eof': sorted(at_end), 'partitions': parts})
    c.close()


{'idempotent': idempotent, 'transactional': transactional, 'consumer': consumer, 'read': read}[ROLE]()
