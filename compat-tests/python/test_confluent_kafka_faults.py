"""Fault injection over the broker's HTTP admin endpoint (urllib), seen by
confluent-kafka-python (librdkafka).

Covers: an injected NOT_LEADER_OR_FOLLOWER on Produce retried by librdkafka and stored
once; an injected delay that makes a produce request time out, and the producer working
again afterwards; an injected dropped connection recovered from; topic filters; counts
and hits as GET /admin/faults lists them; DELETE of one rule and of all; broker latency
and pause observed by an AdminClient; 400s and 404s for bad input.

Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP and SAMSA_HTTP).
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, check, check_eq, bootstrap, http_base  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

BS = bootstrap()
suite = Suite('confluent-kafka-python %s fault injection over HTTP' % confluent_kafka.version()[0])


def admin_call(method, path, body=None, raw=None):
    """(status, parsed JSON) of one admin request; HTTP errors are returned, not raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(http_base() + path, data=data, method=method, headers={'content-type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read().decode() or 'null')
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or 'null')


def inject(spec):
    status, rule = admin_call('POST', '/admin/faults', spec)
    check_eq('POST /admin/faults status', 201, status)
    return rule


def rules():
    status, listing = admin_call('GET', '/admin/faults')
    check_eq('GET /admin/faults status', 200, status)
    return listing['rules']


def clear_all():
    check_eq('DELETE /admin/faults status', 200, admin_call('DELETE', '/admin/faults')[0])


def create_topic(name, partitions=1):
    admin = AdminClient({'bootstrap.servers': BS})
    for f in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
        f.result(10)


def broker_id():
    return next(iter(AdminClient({'bootstrap.servers': BS}).list_topics(timeout=10).brokers))


def produce(topic, values, **conf):
    """Produces values, returns [(error or None, value)] from the delivery reports."""
    p = Producer(dict({'bootstrap.servers': BS, 'linger.ms': 0, 'retry.backoff.ms': 100}, **conf))
    reports = []
    for v in values:
        p.produce(topic, value=v.encode(), on_delivery=lambda err, msg: reports.append((err, msg.value().decode())))
    p.flush(30)
    check_eq('delivery reports', len(values), len(reports))
    return reports


def stored(topic, partition=0):
    """Every value in the partition, read with assign() from the start."""
    c = Consumer({'bootstrap.servers': BS, 'group.id': 'faults-reader', 'enable.auto.commit': False})
    try:
        low, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        if high == low:
            return []
        c.assign([TopicPartition(topic, partition, low)])
        out = []
        deadline = time.time() + 15
        while len(out) < high - low and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                out.append(m.value().decode())
        return out
    finally:
        c.close()


@suite.case
def not_leader_on_produce_is_retried_and_stored_once():
    clear_all()
    create_topic('py-fault-not-leader')
    rule = inject({'api': 'Produce', 'action': {'error': 'NOT_LEADER_OR_FOLLOWER'}})
    check_eq('new rule', (1, 0, 'NOT_LEADER_OR_FOLLOWER'), (rule['remaining'], rule['hits'], rule['action']['error']))
    reports = produce('py-fault-not-leader', ['once'])
    check_eq('delivery', [(None, 'once')], reports)
    check_eq('rule after', [(rule['id'], 0, 1)], [(r['id'], r['remaining'], r['hits']) for r in rules()])
    check_eq('stored', ['once'], stored('py-fault-not-leader'))


@suite.case
def injected_delay_times_the_request_out_then_the_client_recovers():
    clear_all()
    create_topic('py-fault-delay')
    inject({'api': 'Produce', 'action': {'delayMs': 4000}})
    reports = produce('py-fault-delay', ['slow'], **{'request.timeout.ms': 1000, 'message.timeout.ms': 1500})
    err = reports[0][0]
    check('the delayed produce failed with a timeout', err is not None and 'TIMED_OUT' in err.name(), repr(err))
    check_eq('rule spent', [(0, 1)], [(r['remaining'], r['hits']) for r in rules()])
    check_eq('a later produce', [(None, 'after')], produce('py-fault-delay', ['after']))


@suite.case
def dropped_connection_is_recovered_from():
    clear_all()
    create_topic('py-fault-drop')
    inject({'api': 'Produce', 'action': {'dropConnection': True}})
    check_eq('delivery', [(None, 'survivor')], produce('py-fault-drop', ['survivor']))
    check_eq('rule spent', [(0, 1)], [(r['remaining'], r['hits']) for r in rules()])
    check_eq('stored', ['survivor'], stored('py-fault-drop'))


@suite.case
def topic_filter_refuses_only_that_topic():
    clear_all()
    create_topic('py-fault-a')
    create_topic('py-fault-b')
    inject({'api': 'Produce', 'topic': 'py-fault-a', 'count': 'unlimited', 'action': {'error': 'NOT_LEADER_OR_FOLLOWER'}})
    p = Producer({'bootstrap.servers': BS, 'linger.ms': 50, 'message.timeout.ms': 3000})
    reports = []
    p.produce('py-fault-a', value=b'a', on_delivery=lambda err, msg: reports.append((msg.topic(), err)))
    p.produce('py-fault-b', value=b'b', on_delivery=lambda err, msg: reports.append((msg.topic(), err)))
    p.flush(20)
    by_topic = dict(reports)
    check('py-fault-a never delivered', by_topic.get('py-fault-a') is not None, repr(reports))
    check_eq('py-fault-b delivered', None, by_topic.get('py-fault-b'))
    check_eq('stored in a', [], stored('py-fault-a'))
    check_eq('stored in b', ['b'], stored('py-fault-b'))
    hits = rules()[0]['hits']
    check('the rule counted librdkafka\'s retries (hits %d)' % hits, hits >= 1)
    clear_all()


@suite.case
def list_remove_one_and_clear_all():
    clear_all()
    a = inject({'api': 'Fetch', 'count': 3, 'action': {'error': 6}})
    b = inject({'api': 'metadata', 'clientId': 'nobody', 'count': 'unlimited', 'action': {'delayMs': 10}})
    check_eq('listed', [(a['id'], 'Fetch', 3), (b['id'], 'Metadata', 'unlimited')], [(r['id'], r['api'], r['remaining']) for r in rules()])
    check_eq('DELETE one', (200, {'removed': a['id']}), admin_call('DELETE', '/admin/faults/%d' % a['id']))
    check_eq('DELETE it again', 404, admin_call('DELETE', '/admin/faults/%d' % a['id'])[0])
    check_eq('left', [b['id']], [r['id'] for r in rules()])
    clear_all()
    check_eq('after DELETE all', {'rules': [], 'brokers': []}, admin_call('GET', '/admin/faults')[1])


@suite.case
def latency_and_pause_are_observable():
    clear_all()
    node = broker_id()
    check_eq('latency set', (200, {'brokerId': node, 'latencyMs': 1500, 'paused': False}), admin_call('POST', '/admin/brokers/%d/latency' % node, {'ms': 1500}))
    admin = AdminClient({'bootstrap.servers': BS})
    t = time.time()
    admin.list_topics(timeout=15)
    check('a metadata request took the latency (%.2fs)' % (time.time() - t), time.time() - t >= 1.4)
    admin_call('POST', '/admin/brokers/%d/latency' % node, {'ms': 0})
    check_eq('paused', (200, {'brokerId': node, 'latencyMs': 0, 'paused': True}), admin_call('POST', '/admin/brokers/%d/pause' % node))
    try:
        AdminClient({'bootstrap.servers': BS}).list_topics(timeout=2)
        check('a paused broker answered nothing', False)
    except KafkaException:
        pass
    check_eq('resumed', 200, admin_call('POST', '/admin/brokers/%d/resume' % node)[0])
    check('answers again', len(AdminClient({'bootstrap.servers': BS}).list_topics(timeout=10).brokers) == 1)


@suite.case
def bad_input_is_a_400_or_404_with_a_reason():
    clear_all()
    cases = [
        ({'api': 'Produc', 'action': {'error': 6}}, 400, 'unknown API "Produc"'),
        ({'api': 'Produce', 'action': {'error': 'NO_SUCH_ERROR'}}, 400, 'unknown error "NO_SUCH_ERROR"'),
        ({'api': 'Produce', 'action': {'explode': True}}, 400, 'unknown action'),
        ({'api': 'Produce', 'brokerId': 999, 'action': {'error': 6}}, 404, 'no broker with id 999'),
    ]
    for spec, status, text in cases:
        got_status, body = admin_call('POST', '/admin/faults', spec)
        check_eq('status for %s' % json.dumps(spec), status, got_status)
        check('message for %s: %s' % (json.dumps(spec), body), text in body.get('error', ''))
    got_status, body = admin_call('POST', '/admin/faults', raw=b'{not json')
    check_eq('bad JSON', 400, got_status)
    check_eq('latency without ms', 400, admin_call('POST', '/admin/brokers/%d/latency' % broker_id(), {'millis': 5})[0])
    check_eq('pause of an unknown broker', 404, admin_call('POST', '/admin/brokers/999/pause')[0])
    check_eq('nothing was added', [], rules())


suite.main()
