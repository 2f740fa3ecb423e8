"""kcat (librdkafka) over TLS and SASL against a Samsa broker of the suite's own.

Covers: produce and consume over SSL trusting the broker's --tls-dev CA; the same CA left
out (kcat must refuse the server); mutual TLS with a client certificate signed by the dev
CA; no client certificate and a certificate from another CA both refused; SASL_PLAINTEXT
with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER unsecured tokens; SASL_SSL with
SCRAM-SHA-512; a wrong password (PLAIN, SCRAM) ends kcat -L within seconds with an
authentication error.

The broker (lib/secure_broker.py) has PLAINTEXT, SSL, MTLS (SSL with
ssl.client.auth=required), SASL_PLAINTEXT and SASL_SSL listeners; run.sh's broker is not
used. Run through compat-tests/run.sh (needs SAMSA_BOOTSTRAP).
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from harness import Suite, Failure, check, check_seq, bootstrap  # noqa: E402
from secure_broker import SecureBroker, ClientCerts, USER, PASSWORD  # noqa: E402

bootstrap()  # run through run.sh only, like every suite
KCAT = os.environ.get('KCAT', 'kcat')
suite = Suite('kcat security')
BROKER = SecureBroker('kcat-sec')
CERTS = ClientCerts(BROKER)
N = 200


def ssl_opts():
    return ['-X', 'security.protocol=SSL', '-X', 'ssl.ca.location=' + BROKER.ca_file]


def sasl_opts(mechanism, listener='SASL_PLAINTEXT', user=USER, password=PASSWORD):
    out = ['-X', 'security.protocol=' + listener, '-X', 'sasl.mechanism=' + mechanism]
    if mechanism == 'OAUTHBEARER':
        # librdkafka builds an unsecured JWT (alg none) only when told to.
        out += ['-X', 'enable.sasl.oauthbearer.unsecure.jwt=true', '-X', 'sasl.oauthbearer.config=principal=' + user]
    else:
        out += ['-X', 'sasl.username=' + user, '-X', 'sasl.password=' + password]
    if listener == 'SASL_SSL':
        out += ['-X', 'ssl.ca.location=' + BROKER.ca_file]
    return out


def kcat(listener, opts, args, stdin=None, timeout=30):
    cmd = [KCAT, '-b', BROKER.bootstrap(listener)] + opts + args
    t0 = time.time()
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure('kcat hung (killed after %ss): %s\n      stderr tail: %s'
                      % (timeout, ' '.join(cmd), (e.stderr or b'').decode('utf-8', 'replace')[-1500:]))
    return p, time.time() - t0


def round_trip(listener, opts, topic):
    """Produces N lines, consumes them back until EOF; same lines in the same order."""
    lines = ['%s-%04d' % (topic, i) for i in range(N)]
    p, _ = kcat(listener, opts, ['-P', '-t', topic], stdin=''.join(l + '\n' for l in lines).encode())
    err = p.stderr.decode('utf-8', 'replace')
    check('kcat -P exits 0 without errors', p.returncode == 0 and 'ERROR' not in err, 'exit %d: %s' % (p.returncode, err[-1500:]))
    p, _ = kcat(listener, opts, ['-C', '-t', topic, '-o', 'beginning', '-e', '-q'])
    err = p.stderr.decode('utf-8', 'replace')
    check('kcat -C exits 0', p.returncode == 0, 'exit %d: %s' % (p.returncode, err[-1500:]))
    check_seq('consumed lines', lines, p.stdout.decode().splitlines())


def refused(listener, opts, words, limit=10):
    """kcat -L must fail (non-zero) within `limit` s, its output naming one of `words`."""
    p, took = kcat(listener, opts, ['-L', '-m', '3'], timeout=limit + 10)
    out = (p.stdout + p.stderr).decode('utf-8', 'replace')
    check('kcat -L exits non-zero', p.returncode != 0, 'exit 0, output: %s' % out[-1500:])
    check('kcat -L gives up within %ds' % limit, took < limit, 'took %.1fs' % took)
    check('output names %s' % ' or '.join(words), any(w in out for w in words), out[-1500:])
    lines = [l for l in out.splitlines() if any(w in l for w in words)]
    print('      %s (%.1fs)' % (lines[0].strip()[:200], took))


@suite.case
def ssl_with_the_dev_ca():
    round_trip('SSL', ssl_opts(), 'kcat-ssl')


@suite.case
def ssl_without_the_ca_is_refused_by_kcat():
    # The client must verify the server: trusting only another CA, the handshake fails.
    refused('SSL', ['-X', 'security.protocol=SSL', '-X', 'ssl.ca.location=' + CERTS.other_ca],
            ['certificate verify failed'])


@suite.case
def mtls_with_a_client_certificate():
    crt, key = CERTS.good
    round_trip('MTLS', ssl_opts() + ['-X', 'ssl.certificate.location=' + crt, '-X', 'ssl.key.location=' + key], 'kcat-mtls')


@suite.case
def mtls_without_a_client_certificate_is_refused():
    refused('MTLS', ssl_opts(), ['SSL', 'Disconnected', 'handshake'])


@suite.case
def mtls_certificate_of_another_ca_is_refused():
    crt, key = CERTS.foreign
    refused('MTLS', ssl_opts() + ['-X', 'ssl.certificate.location=' + crt, '-X', 'ssl.key.location=' + key],
            ['SSL', 'Disconnected', 'handshake'])


@suite.case
def sasl_plaintext_plain():
    round_trip('SASL_PLAINTEXT', sasl_opts('PLAIN'), 'kcat-plain')


@suite.case
def sasl_plaintext_scram_sha_256():
    round_trip('SASL_PLAINTEXT', sasl_opts('SCRAM-SHA-256'), 'kcat-scram256')


@suite.case
def sasl_plaintext_scram_sha_512():
    round_trip('SASL_PLAINTEXT', sasl_opts('SCRAM-SHA-512'), 'kcat-scram512')


@suite.case
def sasl_ssl_scram_sha_512():
    round_trip('SASL_SSL', sasl_opts('SCRAM-SHA-512', 'SASL_SSL'), 'kcat-sasl-ssl')


@suite.case
def sasl_plaintext_oauthbearer_unsecured():
    round_trip('SASL_PLAINTEXT', sasl_opts('OAUTHBEARER'), 'kcat-oauth')


# The broker's reason must be the credentials, not some earlier protocol error: a SCRAM
# exchange broken for another reason would fail just as fast.
PLAIN_REFUSED = ['Authentication failed']
SCRAM_REFUSED = ['invalid credentials']


@suite.case
def wrong_password_plain_fails_fast():
    refused('SASL_PLAINTEXT', sasl_opts('PLAIN', password='wrong'), PLAIN_REFUSED)


@suite.case
def wrong_password_scram_sha_256_fails_fast():
    refused('SASL_PLAINTEXT', sasl_opts('SCRAM-SHA-256', password='wrong'), SCRAM_REFUSED)


@suite.case
def unknown_user_scram_sha_512_over_ssl_fails_fast():
    refused('SASL_SSL', sasl_opts('SCRAM-SHA-512', 'SASL_SSL', user='nobody'), SCRAM_REFUSED)


@suite.case
def broker_stops_cleanly():
    BROKER.stop()


try:
    suite.main()
finally:
    BROKER.close()
