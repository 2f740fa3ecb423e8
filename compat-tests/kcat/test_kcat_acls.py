"""kcat (librdkafka) against a Samsa broker with the authorizer on (a broker of the suite's own,
lib/acl_broker.py: SASL/PLAIN users admin, alice, bob).

Alice without ACLs: `kcat -P` fails with "Topic authorization failed", `kcat -G` with "Group
authorization failed", `kcat -L` lists no topics; after ACLs (CreateAcls over the wire: kcat
has no admin API) she produces, reads back, and joins her group; bob is still refused.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, check_seq, bootstrap  # noqa: E402
from acl_broker import AclBroker, USERS  # noqa: E402
import wire  # noqa: E402

KCAT = 'kcat'
bootstrap()  # run through run.sh only, like every suite
suite = Suite('kcat ACLs')
BROKER = AclBroker('kcat-acl')
TOPIC, GROUP = 2, 3
LITERAL = 3
READ, WRITE = 3, 4
ALLOW = 3


def kcat(user, args, stdin=None, timeout=30):
    cmd = [KCAT, '-b', BROKER.sasl_bootstrap(), '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN',
           '-X', 'sasl.username=' + user, '-X', 'sasl.password=' + USERS[user], '-X', 'message.timeout.ms=8000'] + args
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure('kcat hung: %s\n      stderr tail: %s' % (' '.join(cmd), (e.stderr or b'').decode('utf-8', 'replace')[-1500:]))
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


@suite.case
def setup_topic():
    check_eq('CreateTopics error', 0, wire.create_topic('acl-topic', 1, address=BROKER.bootstrap('PLAINTEXT')))


@suite.case
def alice_without_acls_is_refused():
    code, out, err = kcat('alice', ['-P', '-t', 'acl-topic'], stdin=b'one\ntwo\n')
    check('kcat -P reports the topic authorization failure', 'authorization failed' in err.lower(), 'exit %d: %s' % (code, err[-800:]))
    code, out, err = kcat('alice', ['-L', '-J'])
    check('metadata lists no topic for alice', '"acl-topic"' not in out, out[-500:])
    code, out, err = kcat('alice', ['-G', 'alice-group', 'acl-topic', '-o', 'beginning', '-e', '-q'], timeout=25)
    check('kcat -G reports an authorization failure', 'authorization failed' in (err + out).lower(), 'exit %d: %s' % (code, err[-800:]))


@suite.case
def after_acls_alice_produces_reads_and_joins_her_group():
    codes = wire.create_acls([
        (TOPIC, 'acl-topic', LITERAL, 'User:alice', '*', WRITE, ALLOW),
        (TOPIC, 'acl-topic', LITERAL, 'User:alice', '*', READ, ALLOW),
        (GROUP, 'alice-group', LITERAL, 'User:alice', '*', READ, ALLOW),
    ], BROKER.bootstrap('PLAINTEXT'))
    check_eq('CreateAcls errors', [0, 0, 0], codes)
    lines = ['line-%02d' % i for i in range(20)]
    code, out, err = kcat('alice', ['-P', '-t', 'acl-topic'], stdin=''.join(l + '\n' for l in lines).encode())
    check('kcat -P succeeds', code == 0 and 'ERROR' not in err, 'exit %d: %s' % (code, err[-800:]))
    code, out, err = kcat('alice', ['-C', '-t', 'acl-topic', '-o', 'beginning', '-e', '-q'])
    check_seq('lines read back', lines, out.splitlines())
    code, out, err = kcat('alice', ['-G', 'alice-group', 'acl-topic', '-o', 'beginning', '-e', '-q'], timeout=40)
    check_seq('lines read in the group', lines, out.splitlines())
    code, out, err = kcat('bob', ['-P', '-t', 'acl-topic'], stdin=b'bob\n')
    check('bob is still refused', 'authorization failed' in err.lower(), 'exit %d: %s' % (code, err[-800:]))


@suite.case
def broker_stops_cleanly():
    BROKER.stop()


if __name__ == '__main__':
    try:
        suite.main()
    finally:
        BROKER.close()
