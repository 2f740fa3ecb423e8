"""kcat -G (librdkafka's balanced consumer) against a real Samsa broker: two kcat members
split a four-partition topic and see every message exactly once; their offsets are
committed and a later member of the group resumes there; a member that stops (LeaveGroup)
or is killed (no LeaveGroup: its session times out) hands its partitions to the other.

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, bootstrap, wait_until  # noqa: E402
import wire  # noqa: E402

BS = bootstrap()
KCAT = os.environ.get('KCAT', 'kcat')
suite = Suite('kcat -G')

TOPIC = 'kcat-groups'
PARTITIONS = 4
GROUP = 'kcat-group'
SESSION_MS = 6000
GROUP_ARGS = [
    '-X', 'auto.offset.reset=earliest',
    '-X', 'session.timeout.ms=%d' % SESSION_MS,
    '-X', 'heartbeat.interval.ms=500',
    '-X', 'auto.commit.interval.ms=500',
]
ASSIGNED = re.compile(r'rebalanced \(memberid [^)]*\): assigned: ?(.*)$')
REVOKED = re.compile(r'rebalanced \(memberid [^)]*\): revoked')


class Member:
    """One `kcat -G` process; collects (partition, offset, value) lines and its assignment."""

    def __init__(self, name, group=GROUP, extra=()):
        self.name = name
        self.messages = []
        self.partitions = []
        self.stderr = []
        self.proc = subprocess.Popen(
            # -u: unbuffered output, so lines arrive as messages are consumed.
            [KCAT, '-b', BS, '-G', group, '-u', '-f', '%p %o %s\\n'] + GROUP_ARGS + list(extra) + [TOPIC],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            parts = line.decode('utf-8', 'replace').rstrip('\n').split(' ', 2)
            if len(parts) == 3:
                self.messages.append((int(parts[0]), int(parts[1]), parts[2]))

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            self.stderr.append(line)
            m = ASSIGNED.search(line)
            if m:
                self.partitions = sorted(int(x) for x in re.findall(r'\[(\d+)\]', m.group(1)))
            elif REVOKED.search(line):
                self.partitions = []

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Failure('kcat -G (%s) did not exit within %ds of %s; stderr tail: %r'
                          % (self.name, timeout, sig, self.stderr[-5:]))
        for t in self._threads:
            t.join(5)

    def tail(self):
        return ' | '.join(self.stderr[-4:])


def covers(members, n=PARTITIONS):
    got = sorted(p for m in members for p in m.partitions)
    return got == list(range(n))


def produce(values):
    data = ''.join('%s:%s\n' % (v, v) for v in values).encode('utf-8')
    p = subprocess.run([KCAT, '-b', BS, '-P', '-t', TOPIC, '-K:'], input=data,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise Failure('kcat -P failed: %s' % p.stderr.decode('utf-8', 'replace')[-1000:])


def check_exactly_once(what, members, expected):
    got = [v for m in members for (_, _, v) in m.messages if v in expected]
    dup = sorted(v for v in set(got) if got.count(v) > 1)
    missing = sorted(set(expected) - set(got))
    check('%s: no duplicates' % what, not dup, 'duplicated: %r' % dup[:10])
    check('%s: nothing missing' % what, not missing, 'missing %d, first %r' % (len(missing), missing[:10]))


_members = []


def member(name, **kw):
    m = Member(name, **kw)
    _members.append(m)
    return m


def _cleanup():
    for m in _members:
        if m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait()


def isolated(fn):
    """Kills the case's kcat processes when it ends, so a failed case does not disturb the next."""
    def case():
        try:
            fn()
        finally:
            _cleanup()
    case.__name__ = fn.__name__
    return case



@suite.case
@isolated
def two_members_split_partitions_and_consume_each_message_once():
    wire.create_topic(TOPIC, PARTITIONS)
    a = member('a')
    b = member('b')
    wait_until('both kcat members assigned, together all %d partitions' % PARTITIONS,
               lambda: a.partitions and b.partitions and covers([a, b]), timeout=30)
    check_eq('partitions per member', [2, 2], [len(a.partitions), len(b.partitions)])
    state, ptype, protocol, members = wire.describe_group(GROUP)
    check_eq('group state and protocol type', ('Stable', 'consumer'), (state, ptype))
    check_eq('members listed by DescribeGroups', 2, len(members))
    values = ['first-%04d' % i for i in range(400)]
    produce(values)
    wait_until('400 messages across both members', lambda: len(a.messages) + len(b.messages) >= 400, timeout=30)
    time.sleep(0.5)
    check_exactly_once('first round', [a, b], set(values))
    for m in (a, b):
        check('%s consumed only its own partitions' % m.name,
              all(p in m.partitions for (p, _, _) in m.messages), 'assigned %r' % m.partitions)
        check('%s consumed something' % m.name, len(m.messages) > 0)
    # SIGTERM: kcat commits its offsets and leaves the group.
    a.stop()
    b.stop()
    committed = wire.committed_offsets(GROUP, TOPIC, list(range(PARTITIONS)))
    check_eq('committed offsets add up to the messages consumed', 400, sum(committed.values()))


@suite.case
@isolated
def a_new_member_resumes_at_the_committed_offsets():
    values = ['second-%04d' % i for i in range(100)]
    produce(values)
    p = subprocess.run([KCAT, '-b', BS, '-G', GROUP, '-f', '%p %o %s\\n', '-e'] + GROUP_ARGS + [TOPIC],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check_eq('kcat -G -e exit status', 0, p.returncode)
    got = [line.split(' ', 2)[2] for line in p.stdout.decode('utf-8').splitlines() if line.count(' ') >= 2]
    check_eq('messages after the committed offsets, and only those', sorted(values), sorted(got))
    committed = wire.committed_offsets(GROUP, TOPIC, list(range(PARTITIONS)))
    check_eq('committed offsets after the second member', 500, sum(committed.values()))


@suite.case
@isolated
def a_member_that_stops_hands_over_its_partitions():
    a = member('a2')
    b = member('b2')
    wait_until('two members covering all partitions', lambda: a.partitions and b.partitions and covers([a, b]), timeout=30)
    t0 = time.time()
    b.stop()
    wait_until('the remaining member to own all partitions', lambda: covers([a]), timeout=20)
    print('      rebalance after a kcat member left: %.1fs' % (time.time() - t0))
    values = ['third-%04d' % i for i in range(100)]
    produce(values)
    wait_until('the remaining member to read the new messages',
               lambda: len([1 for (_, _, v) in a.messages if v.startswith('third-')]) >= 100, timeout=30)
    check_exactly_once('after the leave', [a], set(values))
    a.stop()


@suite.case
@isolated
def a_killed_member_loses_its_partitions_after_the_session_timeout():
    a = member('a3')
    b = member('b3')
    wait_until('two members covering all partitions', lambda: a.partitions and b.partitions and covers([a, b]), timeout=30)
    t0 = time.time()
    b.stop(signal.SIGKILL)
    wait_until('the survivor to own all partitions', lambda: covers([a]), timeout=SESSION_MS / 1000.0 + 15)
    took = time.time() - t0
    print('      rebalance after a kcat member was killed (session %d ms): %.1fs' % (SESSION_MS, took))
    check('the rebalance came after the session timeout, not before', took >= SESSION_MS / 1000.0 - 1.0, '%.1fs' % took)
    values = ['fourth-%04d' % i for i in range(100)]
    produce(values)
    wait_until('the survivor to read the new messages',
               lambda: len([1 for (_, _, v) in a.messages if v.startswith('fourth-')]) >= 100, timeout=30)
    check_exactly_once('after the kill', [a], set(values))
    a.stop()


if __name__ == '__main__':
    try:
        suite.main()
    finally:
        _cleanup()
