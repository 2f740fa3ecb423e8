"""Fault injection driven by the samsa CLI (`samsa faults ...` over the broker's HTTP admin
endpoint), seen by kcat (librdkafka).

Covers: an injected NOT_LEADER_OR_FOLLOWER on Produce retried by kcat and stored once; an
injected delay that makes kcat's produce request time out, and kcat producing again after;
an injected dropped connection recovered from; a partition filter; `faults list` (table
and --json) with remaining counts and hits; `faults clear` of one rule and of all; broker
latency and pause as kcat -L sees them; the CLI's errors for bad input.

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP and SAMSA_HTTP).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, bootstrap, http_base  # noqa: E402

BS = bootstrap()
KCAT = os.environ.get('KCAT', 'kcat')
CLI = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'dist', 'src', 'cli', 'main.js')
suite = Suite('kcat with faults from the samsa CLI')


def samsa(args, ok=True, timeout=30):
    cmd = ['node', CLI] + args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if ok and p.returncode != 0:
        raise Failure('samsa exited with %d: %s\n      stderr: %s' % (p.returncode, ' '.join(args), p.stderr.decode()[-2000:]))
    return p


def faults(args, ok=True):
    return samsa(['faults'] + args + ['--admin-url', http_base()], ok=ok)


def fault_rules():
    return json.loads(faults(['list', '--json']).stdout.decode())['rules']


def kcat(args, stdin=None, timeout=60):
    return subprocess.run([KCAT, '-b', BS] + args, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def kcat_for(args, seconds):
    """kcat's stdout after `seconds` (it is stopped then if still running)."""
    p = subprocess.Popen([KCAT, '-b', BS] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        out, _ = p.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out


def kcat_produce(topic, values, extra=()):
    return kcat(['-P', '-t', topic] + list(extra), stdin=''.join(v + '\n' for v in values).encode())


def stored(topic, partition=0):
    p = kcat(['-C', '-t', topic, '-p', str(partition), '-o', 'beginning', '-e', '-q', '-f', '%s\\n'], timeout=30)
    if p.returncode != 0:
        raise Failure('kcat -C failed: %s' % p.stderr.decode()[-1000:])
    return p.stdout.decode().splitlines()


def create_topic(name, partitions=1):
    samsa(['topics', 'create', name, '--partitions', str(partitions), '-b', BS])


@suite.case
def not_leader_on_produce_is_retried_and_stored_once():
    faults(['clear'])
    create_topic('kcat-fault-not-leader')
    out = faults(['add', '--api', 'Produce', '--error', 'NOT_LEADER_OR_FOLLOWER']).stdout.decode()
    check('add says what it added: %r' % out, 'Produce' in out and 'NOT_LEADER_OR_FOLLOWER' in out)
    p = kcat_produce('kcat-fault-not-leader', ['once'])
    check_eq('kcat -P exit status (stderr %s)' % p.stderr.decode()[-500:], 0, p.returncode)
    check_eq('rule after', [(0, 1)], [(r['remaining'], r['hits']) for r in fault_rules()])
    check_eq('stored', ['once'], stored('kcat-fault-not-leader'))


@suite.case
def injected_delay_times_kcat_out_then_it_produces_again():
    faults(['clear'])
    create_topic('kcat-fault-delay')
    faults(['add', '--api', 'Produce', '--delay-ms', '4000'])
    t = time.time()
    p = kcat_produce('kcat-fault-delay', ['slow'], ['-X', 'request.timeout.ms=1000', '-X', 'message.timeout.ms=1500'])
    err = p.stderr.decode()
    check('kcat reported the timed-out delivery (exit %d): %s' % (p.returncode, err[-800:]), p.returncode != 0 and 'timed out' in err.lower())
    check('it took the timeout, not the delay (%.1fs)' % (time.time() - t), time.time() - t < 3.9)
    p = kcat_produce('kcat-fault-delay', ['after'])
    check_eq('kcat -P after the delay (stderr %s)' % p.stderr.decode()[-500:], 0, p.returncode)
    check('"after" is stored', 'after' in stored('kcat-fault-delay'))


@suite.case
def dropped_connection_is_recovered_from():
    faults(['clear'])
    create_topic('kcat-fault-drop')
    faults(['add', '--api', 'Produce', '--drop-connection'])
    # kcat (the tool, not librdkafka) quits when every broker connection is down at once; with
    # the broker given under two names the dropped one is not "all", and librdkafka reconnects.
    port = BS.rsplit(':', 1)[1]
    p = subprocess.run([KCAT, '-b', '%s,localhost:%s' % (BS, port), '-P', '-t', 'kcat-fault-drop'], input=b'survivor\n', stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    check_eq('kcat -P exit status (stderr %s)' % p.stderr.decode()[-500:], 0, p.returncode)
    check_eq('rule spent', [(0, 1)], [(r['remaining'], r['hits']) for r in fault_rules()])
    check_eq('stored', ['survivor'], stored('kcat-fault-drop'))


@suite.case
def partition_filter_refuses_only_that_partition():
    faults(['clear'])
    create_topic('kcat-fault-part', 2)
    faults(['add', '--api', 'Fetch', '--topic', 'kcat-fault-part', '--partition', '1', '--count', 'unlimited', '--error', 'NOT_LEADER_OR_FOLLOWER'])
    for part in (0, 1):
        p = kcat_produce('kcat-fault-part', ['p%d' % part], ['-p', str(part)])
        check_eq('produce to %d' % part, 0, p.returncode)
    check_eq('partition 0 reads', ['p0'], stored('kcat-fault-part', 0))
    out = kcat_for(['-C', '-t', 'kcat-fault-part', '-p', '1', '-o', 'beginning', '-e', '-q', '-f', '%s\\n'], 4)
    check('partition 1 yields no record while refused (got %r)' % out, b'p1' not in out)
    check('the rule fired on partition 1 fetches', fault_rules()[0]['hits'] >= 1)
    faults(['clear'])
    check_eq('partition 1 reads after clear', ['p1'], stored('kcat-fault-part', 1))


@suite.case
def list_and_clear():
    faults(['clear'])
    faults(['add', '--api', 'Fetch', '--count', '3', '--error', '6'])
    faults(['add', '--api', 'Metadata', '--client-id', 'nobody', '--count', 'unlimited', '--delay-ms', '10'])
    table = faults(['list']).stdout.decode()
    check('table lists both rules:\n%s' % table, 'Fetch' in table and 'NOT_LEADER_OR_FOLLOWER' in table and 'client=nobody' in table and 'unlimited' in table)
    rules = fault_rules()
    check_eq('json list', [('Fetch', 3, 0), ('Metadata', 'unlimited', 0)], [(r['api'], r['remaining'], r['hits']) for r in rules])
    faults(['clear', str(rules[0]['id'])])
    check_eq('after clear of one', [rules[1]['id']], [r['id'] for r in fault_rules()])
    p = faults(['clear', str(rules[0]['id'])], ok=False)
    check('clearing it again fails: %s' % p.stderr.decode(), p.returncode == 1 and 'no fault rule' in p.stderr.decode())
    faults(['clear'])
    check_eq('after clear', [], fault_rules())


@suite.case
def latency_and_pause_as_kcat_sees_them():
    faults(['clear'])
    meta = json.loads(kcat(['-L', '-J']).stdout.decode())
    node = meta['brokers'][0]['id']
    faults(['latency', str(node), '1500'])
    t = time.time()
    p = kcat(['-L', '-J'])
    check('kcat -L took the latency (%.2fs)' % (time.time() - t), p.returncode == 0 and time.time() - t >= 1.4)
    faults(['latency', str(node), '0'])
    out = faults(['pause', str(node)]).stdout.decode()
    check('pause reports it: %r' % out, 'paused' in out)
    p = kcat(['-L', '-m', '2'], timeout=30)
    check('kcat -L fails against a paused broker (exit %d)' % p.returncode, p.returncode != 0)
    faults(['resume', str(node)])
    check_eq('kcat -L after resume', 0, kcat(['-L', '-m', '10']).returncode)


@suite.case
def cli_errors_for_bad_input():
    for args, text in [
        (['add', '--api', 'Produc', '--error', '6'], 'unknown API "Produc"'),
        (['add', '--api', 'Produce', '--error', 'NO_SUCH_ERROR'], 'unknown error "NO_SUCH_ERROR"'),
        (['add', '--api', 'Produce'], 'exactly one of --error, --delay-ms, --drop-connection'),
        (['pause', '999'], 'no broker with id 999'),
    ]:
        p = faults(args, ok=False)
        check('samsa faults %s fails with %r: %s' % (' '.join(args), text, p.stderr.decode()), p.returncode == 1 and text in p.stderr.decode())
    p = samsa(['faults', 'list', '--admin-url', 'http://127.0.0.1:1'], ok=False)
    check('unreachable endpoint: %s' % p.stderr.decode(), p.returncode == 1 and 'cannot reach' in p.stderr.decode())


suite.main()
