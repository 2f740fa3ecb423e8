"""kafka-python (pure Python) over TLS and SASL against a Samsa broker of the suite's own.

Covers, each with KafkaAdminClient creating the topic, KafkaProducer sending N messages and
a KafkaConsumer in a group reading them back over the secured listener: SASL_PLAINTEXT
with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER (an unsecured JWT from a token
provider); SASL_SSL with SCRAM-SHA-512; SSL with ssl_cafile (the --tls-dev CA); mutual TLS
with a client certificate. Refusals: a wrong password (PLAIN, SCRAM) and a client
certificate of another CA make the client raise within seconds.

kafka-python 2.0.2 authenticates the old way: SaslHandshake v0, then the mechanism's
tokens as bare size-prefixed frames (no SaslAuthenticate), and a success is an empty
frame. On a failure Kafka just closes the connection, which the client logs as "Connection
reset during recv" and retries until its version probe gives up (NoBrokersAvailable); the
refusal cases check that this close comes at once rather than a hang.

The broker (lib/secure_broker.py) has PLAINTEXT, SSL, MTLS (SSL with
ssl.client.auth=required), SASL_PLAINTEXT and SASL_SSL listeners; run.sh's broker is not
used. Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import base64
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_eq, check_seq, bootstrap  # noqa: E402
from secure_broker import SecureBroker, ClientCerts, USER, PASSWORD  # noqa: E402

import kafka  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402
from kafka import errors as Errors  # noqa: E402

bootstrap()  # run through run.sh only, like every suite
suite = Suite('kafka-python %s security' % kafka.__version__)
BROKER = SecureBroker('kp-sec')
CERTS = ClientCerts(BROKER)
N = 100

_pinned = os.environ.get('SAMSA_KAFKA_PYTHON_API_VERSION')
API_VERSION = tuple(int(x) for x in _pinned.split('.')) if _pinned else None


class ConnLog(logging.Handler):
    """Keeps kafka.conn's records (with their exceptions) to tell a close from a hang."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += ' [%s: %s]' % (type(record.exc_info[1]).__name__, record.exc_info[1])
        self.lines.append(text)


CONN_LOG = ConnLog()
for name in ('kafka.conn', 'kafka.client_async'):
    lg = logging.getLogger(name)
    lg.addHandler(CONN_LOG)
    lg.setLevel(logging.INFO)
    lg.propagate = False


class UnsecuredJwt:
    """OAUTHBEARER token provider: an unsecured JWT (alg none) with sub=alice."""

    def token(self):
        def b64(obj):
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b'=').decode()
        now = int(time.time())
        return '%s.%s.' % (b64({'alg': 'none'}), b64({'sub': USER, 'iat': now, 'exp': now + 3600}))


def base(listener):
    c = {'bootstrap_servers': BROKER.bootstrap(listener), 'request_timeout_ms': 20000}
    if API_VERSION:
        c['api_version'] = API_VERSION
    return c


def ssl_conf(listener='SSL', cert=None):
    c = base(listener)
    c.update({'security_protocol': 'SSL', 'ssl_cafile': BROKER.ca_file})
    if cert:
        c.update({'ssl_certfile': cert[0], 'ssl_keyfile': cert[1]})
    return c


def sasl_conf(mechanism, listener='SASL_PLAINTEXT', user=USER, password=PASSWORD):
    c = base(listener)
    c.update({'security_protocol': listener, 'sasl_mechanism': mechanism})
    if mechanism == 'OAUTHBEARER':
        c['sasl_oauth_token_provider'] = UnsecuredJwt()
    else:
        c.update({'sasl_plain_username': user, 'sasl_plain_password': password})
    if listener == 'SASL_SSL':
        c['ssl_cafile'] = BROKER.ca_file
    return c


def round_trip(conf, topic):
    a = KafkaAdminClient(**conf)
    try:
        a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], timeout_ms=10000)
    finally:
        a.close()
    p = KafkaProducer(acks='all', linger_ms=5, **conf)
    try:
        futures = [p.send(topic, key=b'k%d' % i, value=('%s-%03d' % (topic, i)).encode()) for i in range(N)]
        offsets = [f.get(timeout=30).offset for f in futures]
    finally:
        p.close(timeout=10)
    check_seq('produced offsets', list(range(N)), offsets)
    c = KafkaConsumer(topic, group_id=topic + '-group', auto_offset_reset='earliest', enable_auto_commit=False,
                      fetch_max_wait_ms=100, **conf)
    got = []
    try:
        deadline = time.time() + 30
        while len(got) < N and time.time() < deadline:
            for records in c.poll(timeout_ms=200).values():
                got.extend(r.value.decode() for r in records)
        c.commit()
        committed = [c.committed(tp) for tp in sorted(c.assignment())]
    finally:
        c.close()
    check_seq('consumed values', ['%s-%03d' % (topic, i) for i in range(N)], got)
    check_eq('committed offsets', [N], committed)


def refused(conf, limit=10):
    """Creating a producer must raise within `limit` s; returns the exception and kafka.conn's log."""
    del CONN_LOG.lines[:]
    t0 = time.time()
    try:
        p = KafkaProducer(**conf)
    except Exception as e:  # which exception is part of what the case reports
        took = time.time() - t0
        print('      raised %s: %s (%.1fs)' % (type(e).__name__, e, took))
        check('raised within %ds' % limit, took < limit, 'took %.1fs' % took)
        return e, list(CONN_LOG.lines)
    p.close(timeout=5)
    raise Failure('KafkaProducer connected (%.1fs); log: %s' % (time.time() - t0, CONN_LOG.lines[-5:]))


def authentication_refused(conf):
    err, log = refused(conf)
    reset = [l for l in log if 'Connection reset during recv' in l or 'Authentication' in l or 'authentication' in l]
    if reset:
        print('      kafka.conn: %s' % reset[0][:300])
    # A broker that closes at once shows up as a reset; a hang would be a TimeoutError instead.
    check('the broker ended the exchange (closed or refused), no timeout',
          isinstance(err, (Errors.NoBrokersAvailable, Errors.AuthenticationFailedError, Errors.KafkaConnectionError)) and reset
          and not any('timed out' in l for l in log),
          'exception %r; kafka.conn log: %s' % (err, log[-6:]))


@suite.case
def sasl_plaintext_plain():
    round_trip(sasl_conf('PLAIN'), 'kp-plain')


@suite.case
def sasl_plaintext_scram_sha_256():
    round_trip(sasl_conf('SCRAM-SHA-256'), 'kp-scram256')


@suite.case
def sasl_plaintext_scram_sha_512():
    round_trip(sasl_conf('SCRAM-SHA-512'), 'kp-scram512')


@suite.case
def sasl_ssl_scram_sha_512():
    round_trip(sasl_conf('SCRAM-SHA-512', 'SASL_SSL'), 'kp-sasl-ssl')


@suite.case
def sasl_plaintext_oauthbearer_unsecured():
    round_trip(sasl_conf('OAUTHBEARER'), 'kp-oauth')


@suite.case
def ssl_with_cafile():
    round_trip(ssl_conf(), 'kp-ssl')


@suite.case
def mtls_with_a_client_certificate():
    round_trip(ssl_conf('MTLS', CERTS.good), 'kp-mtls')


@suite.case
def mtls_certificate_of_another_ca_is_refused():
    refused(ssl_conf('MTLS', CERTS.foreign))


@suite.case
def wrong_password_plain_raises_quickly():
    authentication_refused(sasl_conf('PLAIN', password='wrong'))


@suite.case
def wrong_password_scram_sha_256_raises_quickly():
    authentication_refused(sasl_conf('SCRAM-SHA-256', password='wrong'))


@suite.case
def wrong_password_scram_sha_512_raises_quickly():
    authentication_refused(sasl_conf('SCRAM-SHA-512', password='wrong'))


@suite.case
def broker_stops_cleanly():
    BROKER.stop()


try:
    suite.main()
finally:
    BROKER.close()
