"""kafka-python against a Samsa broker with the authorizer on (a broker of the suite's own,
lib/acl_broker.py: SASL/PLAIN users admin (super user), alice and bob).

Alice without ACLs is refused produce and topic creation with Kafka's errors; the admin grants
ACLs with kafka-python's KafkaAdminClient.create_acls and alice can then do exactly what was
granted (produce, consume in her group); describe_acls and delete_acls round-trip; bob may not
manage ACLs; a prefixed ACL covers the topics that start with it; a DENY wins over an ALLOW.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, bootstrap  # noqa: E402
from acl_broker import AclBroker, USERS  # noqa: E402

import kafka  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import (  # noqa: E402
    ACL, ACLFilter, ACLOperation, ACLPermissionType, KafkaAdminClient, NewTopic, ResourcePattern,
    ResourcePatternFilter, ResourceType, ACLResourcePatternType,
)
from kafka import errors as Errors  # noqa: E402

bootstrap()  # run through run.sh only, like every suite
suite = Suite('kafka-python %s ACLs' % kafka.__version__)
BROKER = AclBroker('kp-acl')


def conf(user):
    return {'bootstrap_servers': BROKER.sasl_bootstrap(), 'security_protocol': 'SASL_PLAINTEXT', 'sasl_mechanism': 'PLAIN',
            'sasl_plain_username': user, 'sasl_plain_password': USERS[user], 'request_timeout_ms': 10000}


def admin(user='admin'):
    return KafkaAdminClient(client_id='acl-%s' % user, **conf(user))


def acl(principal, rtype, name, op, perm=ACLPermissionType.ALLOW, pattern=ACLResourcePatternType.LITERAL):
    return ACL(principal=principal, host='*', operation=op, permission_type=perm,
               resource_pattern=ResourcePattern(rtype, name, pattern))


def produce(user, topic, n=5):
    p = KafkaProducer(max_block_ms=8000, **conf(user))
    try:
        for i in range(n):
            p.send(topic, key=b'k%d' % i, value=b'%s-%d' % (topic.encode(), i)).get(timeout=10)
    finally:
        p.close(timeout=5)


def refused(what, fn, errors):
    try:
        fn()
    except errors as e:
        print('      %s refused: %s' % (what, type(e).__name__))
        return
    raise Failure('%s was allowed' % what)


@suite.case
def setup_topics_as_admin():
    a = admin()
    try:
        a.create_topics([NewTopic('acl-topic', 1, 1), NewTopic('team-red', 1, 1), NewTopic('other', 1, 1)])
    finally:
        a.close()


@suite.case
def alice_without_acls_cannot_produce_or_create_topics():
    refused('produce', lambda: produce('alice', 'acl-topic'), (Errors.TopicAuthorizationFailedError, Errors.KafkaTimeoutError))
    a = admin('alice')
    try:
        refused('create_topics', lambda: a.create_topics([NewTopic('alices-own', 1, 1)]), (Errors.TopicAuthorizationFailedError, Errors.ClusterAuthorizationFailedError))
    finally:
        a.close()


@suite.case
def acls_created_with_kafka_python_grant_exactly_what_they_say():
    a = admin()
    try:
        result = a.create_acls([
            acl('User:alice', ResourceType.TOPIC, 'acl-topic', ACLOperation.WRITE),
            acl('User:alice', ResourceType.TOPIC, 'acl-topic', ACLOperation.READ),
            acl('User:alice', ResourceType.GROUP, 'alice-group', ACLOperation.READ),
        ])
        check_eq('failed creations', [], result['failed'])
        check_eq('succeeded creations', 3, len(result['succeeded']))
        acls, err = a.describe_acls(ACLFilter(principal='User:alice', host='*', operation=ACLOperation.ANY,
                                              permission_type=ACLPermissionType.ANY,
                                              resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        check_eq('describe error', 0, getattr(err, 'errno', err) or 0)
        check_eq('ACLs described', 3, len(acls))
    finally:
        a.close()
    produce('alice', 'acl-topic', 10)
    consumer_conf = dict(conf('alice'), request_timeout_ms=30000)
    c = KafkaConsumer('acl-topic', group_id='alice-group', auto_offset_reset='earliest', consumer_timeout_ms=8000, **consumer_conf)
    try:
        got = [m.value for m in c]
    finally:
        c.close()
    check_eq('records alice read', 10, len(got))
    refused('produce to another topic', lambda: produce('alice', 'other'), (Errors.TopicAuthorizationFailedError, Errors.KafkaTimeoutError))


@suite.case
def bob_cannot_manage_acls():
    a = admin('bob')
    try:
        # kafka-python reports per-creation errors in 'failed' rather than raising.
        r = a.create_acls([acl('User:bob', ResourceType.TOPIC, '*', ACLOperation.ALL)])
        check_eq('succeeded creations', [], r['succeeded'])
        check_eq('failed creations', 1, len(r['failed']))
        err = r['failed'][0][1]
        check('the error is CLUSTER_AUTHORIZATION_FAILED', isinstance(err, Errors.ClusterAuthorizationFailedError) or getattr(err, 'errno', None) == 31, repr(err))
    finally:
        a.close()


@suite.case
def a_prefixed_acl_covers_topics_that_start_with_it():
    a = admin()
    try:
        r = a.create_acls([acl('User:bob', ResourceType.TOPIC, 'team-', ACLOperation.WRITE, pattern=ACLResourcePatternType.PREFIXED)])
        check_eq('failed creations', [], r['failed'])
    finally:
        a.close()
    produce('bob', 'team-red')
    refused('bob producing to acl-topic', lambda: produce('bob', 'acl-topic'), (Errors.TopicAuthorizationFailedError, Errors.KafkaTimeoutError))


@suite.case
def deny_wins_over_allow_and_delete_acls_removes_it():
    a = admin()
    try:
        deny = acl('User:alice', ResourceType.TOPIC, 'acl-topic', ACLOperation.WRITE, perm=ACLPermissionType.DENY)
        check_eq('failed creations', [], a.create_acls([deny])['failed'])
        refused('produce under a DENY', lambda: produce('alice', 'acl-topic'), (Errors.TopicAuthorizationFailedError, Errors.KafkaTimeoutError))
        deleted = a.delete_acls([ACLFilter(principal='User:alice', host='*', operation=ACLOperation.WRITE,
                                           permission_type=ACLPermissionType.DENY,
                                           resource_pattern=ResourcePatternFilter(ResourceType.TOPIC, 'acl-topic', ACLResourcePatternType.LITERAL))])
        check_eq('filters answered', 1, len(deleted))
        check_eq('ACLs the filter deleted', 1, len(deleted[0][1]))
    finally:
        a.close()
    produce('alice', 'acl-topic')


@suite.case
def broker_stops_cleanly():
    BROKER.stop()


if __name__ == '__main__':
    try:
        suite.main()
    finally:
        BROKER.close()
