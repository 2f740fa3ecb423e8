"""confluent-kafka-python (librdkafka) against a Samsa broker with the authorizer on (a broker of
the suite's own, lib/acl_broker.py: SASL/PLAIN users admin, alice, bob).

Alice without ACLs: produce fails with TOPIC_AUTHORIZATION_FAILED, a group consumer with
GROUP_AUTHORIZATION_FAILED, topic creation with TOPIC_AUTHORIZATION_FAILED. After ACLs are
granted (CreateAcls over the wire: confluent-kafka 1.7 has no ACL admin API) she produces and
consumes in her group, and only there.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, bootstrap  # noqa: E402
from acl_broker import AclBroker, USERS  # noqa: E402
import wire  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

bootstrap()  # run through run.sh only, like every suite
suite = Suite('confluent-kafka-python %s (librdkafka %s) ACLs' % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))
BROKER = AclBroker('ck-acl')
TOPIC, GROUP = 2, 3
LITERAL = 3
READ, WRITE = 3, 4
ALLOW = 3


def conf(user, **more):
    c = {'bootstrap.servers': BROKER.sasl_bootstrap(), 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN',
         'sasl.username': user, 'sasl.password': USERS[user]}
    c.update(more)
    return c


def produce_errors(user, topic, n=5):
    """Delivery results: a list of None (delivered) or KafkaError codes."""
    results = []
    p = Producer(conf(user, **{'message.timeout.ms': 8000}))
    for i in range(n):
        p.produce(topic, value=b'v%d' % i, on_delivery=lambda err, msg: results.append(err.code() if err else None))
    p.flush(15)
    return results


def consume(user, topic, group, want, limit=20):
    """(values, first error code) of a group consumer."""
    c = Consumer(conf(user, **{'group.id': group, 'auto.offset.reset': 'earliest'}))
    got, error = [], None
    try:
        c.subscribe([topic])
        deadline = time.time() + limit
        while len(got) < want and time.time() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                error = m.error().code()
                if error in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED):
                    break
                continue
            got.append(m.value())
    finally:
        c.close()
    return got, error


@suite.case
def setup_topic():
    check_eq('CreateTopics error', 0, wire.create_topic('acl-topic', 1, address=BROKER.bootstrap('PLAINTEXT')))


@suite.case
def alice_without_acls_is_refused_produce_consume_and_topic_creation():
    check_eq('delivery results', [KafkaError.TOPIC_AUTHORIZATION_FAILED] * 5, produce_errors('alice', 'acl-topic'))
    got, err = consume('alice', 'acl-topic', 'alice-group', 1, limit=10)
    check_eq('records read', [], got)
    check('a group or topic authorization error', err in (KafkaError.GROUP_AUTHORIZATION_FAILED, KafkaError.TOPIC_AUTHORIZATION_FAILED), str(err))
    a = AdminClient(conf('alice'))
    fut = a.create_topics([NewTopic('alices-own', 1, 1)])['alices-own']
    try:
        fut.result(timeout=10)
        raise Failure('alice created a topic')
    except KafkaException as e:
        check_eq('create_topics error', KafkaError.TOPIC_AUTHORIZATION_FAILED, e.args[0].code())


@suite.case
def after_acls_alice_produces_and_consumes_in_her_group_only():
    codes = wire.create_acls([
        (TOPIC, 'acl-topic', LITERAL, 'User:alice', '*', WRITE, ALLOW),
        (TOPIC, 'acl-topic', LITERAL, 'User:alice', '*', READ, ALLOW),
        (GROUP, 'alice-group', LITERAL, 'User:alice', '*', READ, ALLOW),
    ], BROKER.bootstrap('PLAINTEXT'))
    check_eq('CreateAcls errors', [0, 0, 0], codes)
    check_eq('delivery results', [None] * 5, produce_errors('alice', 'acl-topic'))
    got, err = consume('alice', 'acl-topic', 'alice-group', 5)
    check_eq('records read', [b'v%d' % i for i in range(5)], got)
    got, err = consume('alice', 'acl-topic', 'someone-elses-group', 1, limit=10)
    check_eq('GROUP_AUTHORIZATION_FAILED in another group', KafkaError.GROUP_AUTHORIZATION_FAILED, err)
    check_eq('bob is still refused', [KafkaError.TOPIC_AUTHORIZATION_FAILED] * 5, produce_errors('bob', 'acl-topic'))


@suite.case
def broker_stops_cleanly():
    BROKER.stop()


if __name__ == '__main__':
    try:
        suite.main()
    finally:
        BROKER.close()
