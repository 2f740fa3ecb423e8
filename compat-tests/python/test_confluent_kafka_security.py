"""confluent-kafka-python (librdkafka) over TLS and SASL against a Samsa broker of the suite's own.

Covers, each with an AdminClient creating the topic, a Producer sending N messages and a
Consumer in a group (subscribe) reading them back, all over the secured listener: SSL
trusting the --tls-dev CA; mutual TLS with a client certificate signed by the dev CA;
SASL_PLAINTEXT with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER unsecured tokens;
SASL_SSL with SCRAM-SHA-512. Refusals: a wrong password (PLAIN, SCRAM) reaches the error
callback as _AUTHENTICATION within seconds; a client certificate of another CA gets no
metadata. The certificate's principal is not checked (no ACLs yet).

The broker (lib/secure_broker.py) has PLAINTEXT, SSL, MTLS (SSL with
ssl.client.auth=required), SASL_PLAINTEXT and SASL_SSL listeners; run.sh's broker is not
used. Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, check_seq, bootstrap  # noqa: E402
from secure_broker import SecureBroker, ClientCerts, USER, PASSWORD  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, KafkaError, KafkaException  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

bootstrap()  # run through run.sh only, like every suite
suite = Suite('confluent-kafka-python %s (librdkafka %s) security'
              % (confluent_kafka.version()[0], confluent_kafka.libversion()[0]))
BROKER = SecureBroker('ck-sec')
CERTS = ClientCerts(BROKER)
N = 100

LOGGER = logging.getLogger('samsa-compat.librdkafka-security')
LOGGER.addHandler(logging.NullHandler())
LOGGER.propagate = False


def ssl_conf(listener='SSL'):
    return {'bootstrap.servers': BROKER.bootstrap(listener), 'security.protocol': 'SSL',
            'ssl.ca.location': BROKER.ca_file}


def mtls_conf(cert):
    c = ssl_conf('MTLS')
    c.update({'ssl.certificate.location': cert[0], 'ssl.key.location': cert[1]})
    return c


def sasl_conf(mechanism, listener='SASL_PLAINTEXT', user=USER, password=PASSWORD):
    c = {'bootstrap.servers': BROKER.bootstrap(listener), 'security.protocol': listener, 'sasl.mechanism': mechanism}
    if mechanism == 'OAUTHBEARER':
        # librdkafka's built-in unsecured JWT (alg none), only when enabled explicitly.
        c.update({'enable.sasl.oauthbearer.unsecure.jwt': True, 'sasl.oauthbearer.config': 'principal=' + user})
    else:
        c.update({'sasl.username': user, 'sasl.password': password})
    if listener == 'SASL_SSL':
        c['ssl.ca.location'] = BROKER.ca_file
    return c


def with_logger(conf, **more):
    c = dict(conf)
    c['logger'] = LOGGER
    c.update(more)
    return c


def connect(conf, limit=10):
    """Metadata over the listener, or a Failure with the first client error at once (rather
    than an admin call timing out later without saying why)."""
    errors = []
    p = Producer(with_logger(conf, error_cb=errors.append))
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            p.list_topics(timeout=1)
            return
        except KafkaException:
            pass
        p.poll(0.1)
        if errors:
            raise Failure('could not connect: %s' % errors[0])
    raise Failure('no metadata within %ds and no client error' % limit)


def round_trip(conf, topic):
    connect(conf)
    errors = []
    a = AdminClient(with_logger(conf, error_cb=errors.append))
    a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], operation_timeout=10)[topic].result(timeout=20)

    delivered = []
    p = Producer(with_logger(conf, **{'linger.ms': 5, 'error_cb': errors.append}))
    for i in range(N):
        p.produce(topic, key=b'k%d' % i, value=('%s-%03d' % (topic, i)).encode(),
                  on_delivery=lambda err, msg: delivered.append(err or msg.offset()))
    left = p.flush(30)
    check_eq('messages left unflushed', 0, left)
    check_seq('delivery reports (offsets)', list(range(N)), delivered)

    c = Consumer(with_logger(conf, **{'group.id': topic + '-group', 'auto.offset.reset': 'earliest',
                                      'enable.auto.commit': True, 'error_cb': errors.append}))
    got = []
    try:
        c.subscribe([topic])
        deadline = time.time() + 30
        while len(got) < N and time.time() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            if m.error():
                raise Failure('consumer error: %s' % m.error())
            got.append(m.value().decode())
        c.commit(asynchronous=False)
        committed = c.committed(c.assignment(), timeout=10)
    finally:
        c.close()
    check_seq('consumed values', ['%s-%03d' % (topic, i) for i in range(N)], got)
    check_eq('committed offsets', [N], [tp.offset for tp in committed])
    check_eq('client errors', [], [str(e) for e in errors])


def first_error(conf, limit=12):
    """The first error librdkafka reports to the error callback, and how long it took."""
    errors = []
    p = Producer(with_logger(conf, error_cb=errors.append))
    t0 = time.time()
    while not errors and time.time() - t0 < limit:
        p.poll(0.1)
    took = time.time() - t0
    check('an error reached the error callback within %ds' % limit, errors)
    try:
        p.list_topics(timeout=1)
        metadata = True
    except KafkaException:
        metadata = False
    check('the client got no metadata', not metadata)
    return errors[0], took


def authentication_refused(conf, reason):
    err, took = first_error(conf)
    print('      error_cb: %s (%.1fs)' % (err, took))
    check_eq('error code', KafkaError._AUTHENTICATION, err.code())
    # The broker's reason must be the credentials, not an earlier protocol error.
    check('error names SASL authentication and %r' % reason, 'SASL authentication error' in err.str() and reason in err.str(), err.str())


@suite.case
def ssl_with_the_dev_ca():
    round_trip(ssl_conf(), 'ck-ssl')


@suite.case
def mtls_with_a_client_certificate():
    round_trip(mtls_conf(CERTS.good), 'ck-mtls')


@suite.case
def mtls_certificate_of_another_ca_is_refused():
    err, took = first_error(mtls_conf(CERTS.foreign))
    print('      error_cb: %s (%.1fs)' % (err, took))
    check('a TLS or transport error', err.code() in (KafkaError._SSL, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN), str(err))


@suite.case
def sasl_plaintext_plain():
    round_trip(sasl_conf('PLAIN'), 'ck-plain')


@suite.case
def sasl_plaintext_scram_sha_256():
    round_trip(sasl_conf('SCRAM-SHA-256'), 'ck-scram256')


@suite.case
def sasl_plaintext_scram_sha_512():
    round_trip(sasl_conf('SCRAM-SHA-512'), 'ck-scram512')


@suite.case
def sasl_ssl_scram_sha_512():
    round_trip(sasl_conf('SCRAM-SHA-512', 'SASL_SSL'), 'ck-sasl-ssl')


@suite.case
def sasl_plaintext_oauthbearer_unsecured():
    round_trip(sasl_conf('OAUTHBEARER'), 'ck-oauth')


@suite.case
def wrong_password_plain_is_an_authentication_error():
    authentication_refused(sasl_conf('PLAIN', password='wrong'), 'Authentication failed')


@suite.case
def wrong_password_scram_sha_512_is_an_authentication_error():
    authentication_refused(sasl_conf('SCRAM-SHA-512', password='wrong'), 'invalid credentials')


@suite.case
def wrong_password_scram_sha_256_over_sasl_ssl_is_an_authentication_error():
    authentication_refused(sasl_conf('SCRAM-SHA-256', 'SASL_SSL', password='wrong'), 'invalid credentials')


@suite.case
def broker_stops_cleanly():
    BROKER.stop()


try:
    suite.main()
finally:
    BROKER.close()
