"""confluent-kafka-python (librdkafka) against a simulated three-broker cluster.

The suite starts its own `samsa serve --brokers 3` (lib/cluster_broker.py) and drives it
through the HTTP admin routes. Covers: metadata lists three brokers and kcat -L agrees; a
topic with 6 partitions and replication factor 3 has leaders on all three; an idempotent
producer and a group consumer keep going while a broker is stopped and started and a leader
moves, with every value in the log exactly once and seen by the group; a transactional
producer survives the stop of its coordinator's broker (read_committed sees exactly the
committed records). Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, check, check_eq, bootstrap, wait_until  # noqa: E402
from cluster_broker import ClusterBroker  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

bootstrap()  # run through run.sh only, like every suite
suite = Suite('confluent-kafka-python %s (librdkafka %s) simulated cluster'
              % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))
CLUSTER = ClusterBroker('ck-cluster')


def admin():
    return AdminClient({'bootstrap.servers': CLUSTER.bootstrap_servers})


def create(topic, partitions, rf, configs=None):
    a = admin()  # kept referenced until the result is in (a collected client cancels it)
    fs = a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=rf, config=configs or {})])
    fs[topic].result(timeout=15)


def read_all(topic, expected, isolation='read_uncommitted', timeout=30):
    c = Consumer({'bootstrap.servers': CLUSTER.bootstrap_servers, 'group.id': 'audit-%s-%f' % (topic, time.time()),
                  'auto.offset.reset': 'earliest', 'isolation.level': isolation, 'enable.auto.commit': False})
    c.subscribe([topic])
    out = []
    deadline = time.time() + timeout
    quiet_until = None
    try:
        while time.time() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                out.append(m.value().decode())
            if len(out) >= expected:
                quiet_until = quiet_until or time.time() + 1.0  # a little longer, to catch extras
                if time.time() > quiet_until:
                    break
    finally:
        c.close()
    return out


@suite.case
def metadata_and_kcat_list_three_brokers():
    md = admin().list_topics(timeout=10)
    check_eq('broker ids in metadata', [1, 2, 3], sorted(md.brokers))
    for node, addr in CLUSTER.brokers.items():
        b = md.brokers[node]
        check_eq('broker %d address' % node, addr, '%s:%d' % (b.host, b.port))
    out = subprocess.run(['kcat', '-L', '-b', CLUSTER.brokers[2], '-m', '10'], capture_output=True, text=True, timeout=30).stdout
    check('kcat -L lists 3 brokers', ' 3 brokers:' in out, out)


@suite.case
def six_partitions_rf3_have_leaders_on_all_three():
    create('spread', 6, 3)
    parts = admin().list_topics('spread', timeout=10).topics['spread'].partitions
    check_eq('partitions', 6, len(parts))
    check_eq('leaders', {1, 2, 3}, {p.leader for p in parts.values()})
    for p in parts.values():
        check_eq('replicas of %d' % p.id, [1, 2, 3], sorted(p.replicas))
        check_eq('isr of %d' % p.id, [1, 2, 3], sorted(p.isrs))


@suite.case
def idempotent_producer_and_group_consumer_survive_stop_start_and_leader_moves():
    topic = 'failover'
    create(topic, 6, 3)
    seen = set()
    stop_consuming = threading.Event()

    def consume():
        c = Consumer({'bootstrap.servers': CLUSTER.bootstrap_servers, 'group.id': 'failover-group',
                      'auto.offset.reset': 'earliest', 'session.timeout.ms': 10000})
        c.subscribe([topic])
        try:
            while not stop_consuming.is_set():
                m = c.poll(0.2)
                if m is not None and m.error() is None:
                    seen.add(m.value().decode())
        finally:
            c.close()

    consumer = threading.Thread(target=consume)
    consumer.start()
    p = Producer({'bootstrap.servers': CLUSTER.bootstrap_servers, 'enable.idempotence': True, 'linger.ms': 5})
    errors = []
    sent = [0]

    def produce(n):
        for _ in range(n):
            p.produce(topic, value=('v%d' % sent[0]).encode(), key=('k%d' % (sent[0] % 13)).encode(),
                      on_delivery=lambda err, msg: err and errors.append(err))
            sent[0] += 1
            p.poll(0)
        p.flush(30)

    try:
        produce(300)
        CLUSTER.stop_broker(2)
        check('broker 2 left every ISR', all(2 not in x['isr'] and x['leader'] != 2 for x in CLUSTER.partitions(topic)))
        produce(300)
        CLUSTER.start_broker(2)
        produce(100)
        CLUSTER.move_leader(topic, 0, 2)
        CLUSTER.move_leader(topic, 1, 1)
        produce(300)
        CLUSTER.admin('POST', '/admin/leaders/elect')
        produce(100)
        check_eq('delivery errors', [], errors)
        expected = {'v%d' % i for i in range(sent[0])}
        wait_until('the group to see every value', lambda: seen >= expected, timeout=45)
    finally:
        stop_consuming.set()
        consumer.join(30)
    in_log = read_all(topic, sent[0])
    check_eq('values in the log', sent[0], len(in_log))
    check_eq('distinct values in the log', sent[0], len(set(in_log)))
    check_eq('the group saw', set(), expected - seen)


@suite.case
def transactional_producer_survives_its_coordinator_stopping():
    topic = 'txn-failover'
    create(topic, 3, 3)
    p = Producer({'bootstrap.servers': CLUSTER.bootstrap_servers, 'transactional.id': 'survivor'})
    p.init_transactions(30)
    p.begin_transaction()
    for v in ('a', 'b'):
        p.produce(topic, value=v.encode())
    p.commit_transaction(30)
    coordinator = CLUSTER.partitions('__transaction_state')[0]['leader']
    CLUSTER.stop_broker(coordinator)
    try:
        moved = CLUSTER.partitions('__transaction_state')[0]['leader']
        check('the coordinator moved', moved not in (coordinator, -1), str(moved))
        p.begin_transaction()
        p.produce(topic, value=b'c')
        p.commit_transaction(30)
        p.begin_transaction()
        p.produce(topic, value=b'aborted')
        p.abort_transaction(30)
    finally:
        CLUSTER.start_broker(coordinator)
    check_eq('read_committed values', ['a', 'b', 'c'], sorted(read_all(topic, 3, 'read_committed')))


try:
    suite.main()
finally:
    CLUSTER.close()
