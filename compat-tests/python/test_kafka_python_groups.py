"""kafka-python (pure Python client) consumer groups against a real Samsa broker.

Two KafkaConsumers in one group split a four-partition topic and see every message exactly
once; commit() stores offsets that committed() and KafkaAdminClient.list_consumer_group_offsets
read back; a consumer that closes (LeaveGroup) hands its partitions to the other; a new
consumer resumes at the committed offsets; the admin client lists, describes and deletes
the group.

kafka-python 2.0.2 speaks JoinGroup v2, SyncGroup/Heartbeat/LeaveGroup v1, OffsetCommit v2,
OffsetFetch v1-3, FindCoordinator v0-1, DescribeGroups/ListGroups v1, DeleteGroups v1.
Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP). Debian's /usr/bin/python3.
"""
import os
import queue
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, Skip, check, check_eq, bootstrap  # noqa: E402

import kafka  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

BS = bootstrap()
suite = Suite('kafka-python %s groups' % kafka.__version__)

TOPIC = 'kp-groups'
PARTITIONS = 4
GROUP = 'kp-group'

_pinned = os.environ.get('SAMSA_KAFKA_PYTHON_API_VERSION')
API_VERSION = tuple(int(x) for x in _pinned.split('.')) if _pinned else None


def common():
    c = {'bootstrap_servers': BS, 'request_timeout_ms': 20000}
    if API_VERSION:
        c['api_version'] = API_VERSION
    return c


class Member:
    """A KafkaConsumer polled by its own thread: kafka-python's poll() blocks while the
    consumer (re)joins, so consumers of one group cannot share a thread. commit() and close()
    run on that thread too (KafkaConsumer is not thread-safe)."""

    def __init__(self, name):
        self.name = name
        c = common()
        c.update({
            'group_id': GROUP,
            'client_id': 'kp-%s' % name,
            'enable_auto_commit': False,
            'auto_offset_reset': 'earliest',
            'session_timeout_ms': 6000,
            'heartbeat_interval_ms': 500,
            'max_poll_interval_ms': 20000,
            'fetch_max_wait_ms': 100,
        })
        self.consumer = KafkaConsumer(**c)
        self.consumer.subscribe([TOPIC])
        self.messages = []
        self.partitions = []
        self.closed = False
        self.error = None
        self._actions = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while True:
                try:
                    action, done = self._actions.get_nowait()
                except queue.Empty:
                    action = None
                if action == 'close':
                    self.consumer.close(autocommit=False)
                    self.partitions = []
                    done.set()
                    return
                if action == 'commit':
                    self.consumer.commit()
                    done.set()
                for tp, records in self.consumer.poll(timeout_ms=50).items():
                    for r in records:
                        self.messages.append((tp.partition, r.offset, r.value.decode('utf-8')))
                self.partitions = sorted(tp.partition for tp in self.consumer.assignment())
        except Exception as e:  # reported by the case that waits on this member
            self.error = e

    def _do(self, action, timeout=30):
        done = threading.Event()
        self._actions.put((action, done))
        if not done.wait(timeout):
            raise Failure('%s: %s did not finish within %ds (error %r)' % (self.name, action, timeout, self.error))

    def commit(self):
        self._do('commit')

    def close(self):
        if not self.closed:
            self.closed = True
            self._do('close')


def poll_until(what, members, predicate, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for m in members:
            if m.error is not None:
                raise Failure('%s: consumer failed: %r' % (m.name, m.error))
        if predicate():
            return
        time.sleep(0.02)
    raise Failure('timed out after %ds waiting for %s (assignments %r)'
                  % (timeout, what, [(m.name, m.partitions) for m in members]))


def covers(members):
    return sorted(p for m in members for p in m.partitions) == list(range(PARTITIONS))


def produce(values):
    c = common()
    c.update({'linger_ms': 10, 'acks': 'all'})
    p = KafkaProducer(**c)
    try:
        for i, v in enumerate(values):
            p.send(TOPIC, value=v.encode('utf-8'), partition=i % PARTITIONS)
        p.flush(30)
    finally:
        p.close()


def check_exactly_once(what, members, expected):
    got = [v for m in members for (_, _, v) in m.messages if v in expected]
    dup = sorted(v for v in set(got) if got.count(v) > 1)
    missing = sorted(set(expected) - set(got))
    check('%s: no duplicates' % what, not dup, 'duplicated: %r' % dup[:10])
    check('%s: nothing missing' % what, not missing, 'missing %d, first %r' % (len(missing), missing[:10]))


state = {}
_admin = []


def admin():
    if not _admin:
        _admin.append(KafkaAdminClient(**common()))
    return _admin[0]


@suite.case
def two_consumers_split_partitions_and_commit():
    admin().create_topics([NewTopic(TOPIC, num_partitions=PARTITIONS, replication_factor=1)])
    members = [Member('a'), Member('b')]
    state['members'] = members
    t0 = time.time()
    poll_until('two consumers sharing all partitions', members, lambda: all(m.partitions for m in members) and covers(members))
    print('      join to a stable group of 2 (kafka-python): %.2fs' % (time.time() - t0))
    check_eq('partitions per consumer', [2, 2], [len(m.partitions) for m in members])
    values = ['first-%04d' % i for i in range(400)]
    produce(values)
    poll_until('400 messages', members, lambda: sum(len(m.messages) for m in members) >= 400)
    check_exactly_once('first round', members, set(values))
    for m in members:
        check('%s read only its partitions' % m.name, all(p in m.partitions for (p, _, _) in m.messages), repr(m.partitions))
        m.commit()
    offsets = admin().list_consumer_group_offsets(GROUP)
    check_eq('committed offsets', {TopicPartition(TOPIC, p): 100 for p in range(PARTITIONS)},
             {tp: om.offset for tp, om in offsets.items()})


@suite.case
def admin_lists_and_describes_the_group():
    groups = admin().list_consumer_groups()
    check('group listed with protocol type consumer', (GROUP, 'consumer') in groups, repr(groups))
    info = admin().describe_consumer_groups([GROUP])[0]
    check_eq('state and protocol type', ('Stable', 'consumer'), (info.state, info.protocol_type))
    check_eq('members', ['kp-a', 'kp-b'], sorted(m.client_id for m in info.members))
    offsets = admin().list_consumer_group_offsets(GROUP)
    check_eq('offsets through the admin client', {TopicPartition(TOPIC, p): 100 for p in range(PARTITIONS)},
             {tp: om.offset for tp, om in offsets.items()})


@suite.case
def a_closing_consumer_hands_over_its_partitions():
    members = state.get('members')
    if not members:
        raise Skip('needs the consumers of the first case')
    a, b = members
    t0 = time.time()
    b.close()
    poll_until('one consumer owning all partitions', [a], lambda: covers([a]))
    print('      rebalance after a consumer closed: %.2fs' % (time.time() - t0))
    a.messages = []
    values = ['second-%04d' % i for i in range(200)]
    produce(values)
    poll_until('200 messages', [a], lambda: len(a.messages) >= 200)
    check_exactly_once('after the close', [a], set(values))
    a.commit()
    a.close()


@suite.case
def a_new_consumer_resumes_at_the_committed_offsets():
    values = ['third-%04d' % i for i in range(80)]
    produce(values)
    m = Member('c')
    try:
        poll_until('80 new messages', [m], lambda: len(m.messages) >= 80)
        time.sleep(0.3)
        check_eq('only the messages after the committed offsets', sorted(values), sorted(v for (_, _, v) in m.messages))
        m.commit()
    finally:
        m.close()


@suite.case
def admin_deletes_the_empty_group():
    deadline = time.time() + 15
    while admin().describe_consumer_groups([GROUP])[0].state != 'Empty':
        if time.time() > deadline:
            raise Failure('the group did not become Empty')
        time.sleep(0.1)
    result = dict(admin().delete_consumer_groups([GROUP]))
    check_eq('delete_consumer_groups error', 'NoError', getattr(result[GROUP], '__name__', repr(result[GROUP])))
    check('group no longer listed', GROUP not in [g for g, _ in admin().list_consumer_groups()])
    tp = TopicPartition(TOPIC, 0)
    check_eq('offsets gone', -1, admin().list_consumer_group_offsets(GROUP, partitions=[tp])[tp].offset)
    again = dict(admin().delete_consumer_groups([GROUP]))
    check_eq('deleting it again', 'GroupIdNotFoundError', getattr(again[GROUP], '__name__', repr(again[GROUP])))


suite.main()
