"""confluent-kafka-python (librdkafka) consumer groups against a real Samsa broker.

Three consumers with group.protocol=classic (librdkafka's only protocol before 2.4, where
the property does not exist yet) split a six-partition topic and see every message exactly
once; committed offsets are read back with committed(); a consumer that closes hands its
partitions to the others; a new consumer of the group resumes at the committed offsets;
AdminClient.list_groups describes the group. group.protocol=consumer (KIP-848: two members
share a topic, read every message once and commit) runs when the installed librdkafka knows
group.protocol (2.4+), and is skipped otherwise.

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP). Debian's /usr/bin/python3.
"""
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, Skip, check, check_eq, bootstrap, wait_until  # noqa: E402
import wire  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

BS = bootstrap()
suite = Suite('confluent-kafka-python %s (librdkafka %s) groups' % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))

TOPIC = 'ck-groups'
PARTITIONS = 6
GROUP = 'ck-group'
SESSION_MS = 6000

LOGGER = logging.getLogger('samsa-compat.librdkafka-groups')
LOGGER.addHandler(logging.NullHandler())
LOGGER.propagate = False

errors = []


def on_error(err):
    errors.append(err)


def group_conf(protocol):
    """The consumer settings; group.protocol only when the client knows the property."""
    conf = {
        'bootstrap.servers': BS,
        'group.id': GROUP,
        'auto.offset.reset': 'earliest',
        'enable.auto.commit': False,
        'session.timeout.ms': SESSION_MS,
        'heartbeat.interval.ms': 500,
        'error_cb': on_error,
        'logger': LOGGER,
    }
    if protocol is not None:
        conf['group.protocol'] = protocol
    return conf


def supports_group_protocol():
    try:
        Consumer(group_conf('classic')).close()
        return True
    except KafkaException as e:
        if 'group.protocol' in str(e):
            return False
        raise


class Member:
    def __init__(self, name, protocol):
        self.name = name
        self.consumer = Consumer(group_conf(protocol))
        self.consumer.subscribe([TOPIC])
        self.messages = []
        self.closed = False

    def poll(self, timeout=0.05):
        if self.closed:
            return
        m = self.consumer.poll(timeout)
        if m is None:
            return
        if m.error():
            raise Failure('%s: consumer error %s' % (self.name, m.error()))
        self.messages.append((m.partition(), m.offset(), m.value().decode('utf-8')))

    @property
    def partitions(self):
        if self.closed:
            return []
        return sorted(tp.partition for tp in self.consumer.assignment())

    def close(self):
        if not self.closed:
            self.closed = True
            self.consumer.close()


def poll_until(what, members, predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in members:
            m.poll()
        if predicate():
            return
    raise Failure('timed out after %ds waiting for %s (assignments %r, errors %r)'
                  % (timeout, what, [(m.name, m.partitions) for m in members], [str(e) for e in errors[-3:]]))


def covers(members):
    return sorted(p for m in members for p in m.partitions) == list(range(PARTITIONS))


def produce(values):
    p = Producer({'bootstrap.servers': BS, 'linger.ms': 10, 'error_cb': on_error, 'logger': LOGGER})
    failures = []
    for i, v in enumerate(values):
        p.produce(TOPIC, value=v.encode('utf-8'), key=('k%d' % i).encode(), partition=i % PARTITIONS,
                  on_delivery=lambda err, msg: err and failures.append(err))
        p.poll(0)
    check_eq('messages left after flush', 0, p.flush(30))
    check_eq('delivery failures', [], failures)


def check_exactly_once(what, members, expected):
    got = [v for m in members for (_, _, v) in m.messages if v in expected]
    dup = sorted(v for v in set(got) if got.count(v) > 1)
    missing = sorted(set(expected) - set(got))
    check('%s: no duplicates' % what, not dup, 'duplicated: %r' % dup[:10])
    check('%s: nothing missing' % what, not missing, 'missing %d, first %r' % (len(missing), missing[:10]))


PROTOCOL = 'classic' if supports_group_protocol() else None
state = {}
# One AdminClient for the whole suite: confluent-kafka 1.7 resolves the futures of a
# garbage-collected client with _DESTROY.
ADMIN = AdminClient({'bootstrap.servers': BS, 'error_cb': on_error, 'logger': LOGGER})


@suite.case
def classic_three_consumers_split_partitions():
    fs = ADMIN.create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)])
    fs[TOPIC].result(30)
    members = [Member(n, PROTOCOL) for n in ('a', 'b', 'c')]
    state['members'] = members
    t0 = time.time()
    poll_until('three consumers sharing all six partitions', members,
               lambda: all(m.partitions for m in members) and covers(members))
    print('      join to a stable group of 3 (librdkafka): %.2fs' % (time.time() - t0))
    check_eq('partitions per consumer', [2, 2, 2], [len(m.partitions) for m in members])
    values = ['first-%04d' % i for i in range(600)]
    produce(values)
    poll_until('600 messages', members, lambda: sum(len(m.messages) for m in members) >= 600)
    for _ in range(10):
        for m in members:
            m.poll()
    check_exactly_once('first round', members, set(values))
    for m in members:
        check('%s read only its partitions' % m.name, all(p in m.partitions for (p, _, _) in m.messages), repr(m.partitions))
        m.consumer.commit(asynchronous=False)
    committed = members[0].consumer.committed([TopicPartition(TOPIC, p) for p in range(PARTITIONS)], timeout=10)
    check_eq('committed offsets sum to the messages read', 600, sum(tp.offset for tp in committed))


@suite.case
def admin_list_groups_describes_the_group():
    groups = ADMIN.list_groups(GROUP, timeout=10)
    check_eq('one group listed', [GROUP], [g.id for g in groups])
    g = groups[0]
    check_eq('state, protocol type', ('Stable', 'consumer'), (g.state, g.protocol_type))
    check_eq('members', 3, len(g.members))
    check('protocol is an assignor name', g.protocol in ('range', 'roundrobin', 'cooperative-sticky'), repr(g.protocol))
    check('member assignments are reported', all(len(m.assignment) > 0 for m in g.members))


@suite.case
def a_closing_consumer_hands_over_its_partitions():
    members = state.get('members')
    if not members:
        raise Skip('needs the consumers of the first case')
    t0 = time.time()
    members[2].close()
    rest = members[:2]
    poll_until('two consumers sharing all partitions', rest, lambda: covers(rest))
    print('      rebalance after a consumer closed: %.2fs' % (time.time() - t0))
    for m in rest:
        m.messages = []
    values = ['second-%04d' % i for i in range(300)]
    produce(values)
    poll_until('300 messages', rest, lambda: sum(len(m.messages) for m in rest) >= 300)
    check_exactly_once('after the close', rest, set(values))
    for m in rest:
        m.consumer.commit(asynchronous=False)
        m.close()


@suite.case
def a_new_consumer_resumes_at_the_committed_offsets():
    values = ['third-%04d' % i for i in range(120)]
    produce(values)
    m = Member('d', PROTOCOL)
    try:
        poll_until('120 new messages', [m], lambda: len(m.messages) >= 120)
        for _ in range(10):
            m.poll()
        check_eq('only the messages after the committed offsets', sorted(values), sorted(v for (_, _, v) in m.messages))
    finally:
        m.close()
    st, ptype, _, members = wire.describe_group(GROUP)
    check_eq('group after everyone left', ('Empty', 'consumer', 0), (st, ptype, len(members)))


@suite.case
def cooperative_sticky_members_keep_their_partitions():
    # The broker passes member metadata (owned partitions) and assignments through untouched,
    # which is all incremental cooperative rebalancing (KIP-429) needs from it.
    topic = 'ck-coop'
    group = 'ck-coop-group'
    ADMIN.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])[topic].result(30)

    class Coop(Member):
        def __init__(self, name):
            self.name = name
            conf = group_conf(PROTOCOL)
            conf.update({'group.id': group, 'partition.assignment.strategy': 'cooperative-sticky'})
            self.consumer = Consumer(conf)
            self.consumer.subscribe([topic])
            self.messages = []
            self.closed = False

    def covers6(ms):
        return sorted(p for m in ms for p in m.partitions) == list(range(6))

    a, b = Coop('a'), Coop('b')
    members = [a, b]
    try:
        poll_until('two cooperative members sharing six partitions', members, lambda: all(m.partitions for m in members) and covers6(members))
        check_eq('partitions per member', [3, 3], [len(m.partitions) for m in members])
        before = {m.name: set(m.partitions) for m in members}
        c = Coop('c')
        members.append(c)
        poll_until('three cooperative members sharing six partitions', members,
                   lambda: all(m.partitions for m in members) and covers6(members) and [len(m.partitions) for m in members] == [2, 2, 2])
        for m in (a, b):
            check('%s kept partitions it had (sticky)' % m.name, set(m.partitions) <= before[m.name],
                  'before %r, now %r' % (sorted(before[m.name]), m.partitions))
        p = Producer({'bootstrap.servers': BS, 'linger.ms': 10})
        values = ['coop-%03d' % i for i in range(300)]
        for i, v in enumerate(values):
            p.produce(topic, value=v.encode(), partition=i % 6)
        p.flush(30)
        poll_until('300 messages', members, lambda: sum(len(m.messages) for m in members) >= 300)
        got = sorted(v for m in members for (_, _, v) in m.messages)
        check_eq('every message once', sorted(values), got)
    finally:
        for m in members:
            m.close()


@suite.case
def consumer_protocol_kip848():
    if not supports_group_protocol():
        raise Skip('librdkafka %s predates group.protocol (KIP-848 needs librdkafka >= 2.4)' % confluent_kafka.libversion()[0])
    if 68 not in wire.api_versions():
        raise Skip('the broker does not serve ConsumerGroupHeartbeat (KIP-848)')
    topic = 'ck-kip848'
    group = 'ck-kip848-group'
    ADMIN.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])[topic].result(30)

    def kip848_consumer():
        # The consumer protocol takes no session.timeout.ms / heartbeat.interval.ms /
        # partition.assignment.strategy: the broker decides them (and assigns partitions).
        c = Consumer({'bootstrap.servers': BS, 'group.id': group, 'group.protocol': 'consumer',
                      'auto.offset.reset': 'earliest', 'enable.auto.commit': False,
                      'error_cb': on_error, 'logger': LOGGER})
        c.subscribe([topic])
        return c

    consumers = [kip848_consumer(), kip848_consumer()]
    got = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            for c in consumers:
                m = c.poll(0.05)
                if m is not None and not m.error():
                    got.append(m.value().decode('utf-8'))
            parts = [sorted(tp.partition for tp in c.assignment()) for c in consumers]
            if all(parts) and sorted(sum(parts, [])) == [0, 1, 2, 3]:
                break
        else:
            raise Failure('two consumer-protocol members never shared the four partitions (errors %r)' % [str(e) for e in errors[-3:]])
        p = Producer({'bootstrap.servers': BS, 'linger.ms': 10})
        values = ['kip848-%03d' % i for i in range(200)]
        for i, v in enumerate(values):
            p.produce(topic, value=v.encode(), partition=i % 4)
        p.flush(30)
        deadline = time.time() + 60
        while len(got) < 200 and time.time() < deadline:
            for c in consumers:
                m = c.poll(0.05)
                if m is not None and not m.error():
                    got.append(m.value().decode('utf-8'))
        check_eq('every message once across the consumer-protocol members', sorted(values), sorted(got))
        for c in consumers:
            c.commit(asynchronous=False)
        committed = consumers[0].committed([TopicPartition(topic, i) for i in range(4)], timeout=10)
        check_eq('committed offsets', 200, sum(tp.offset for tp in committed))
    finally:
        for c in consumers:
            c.close()


suite.main()
