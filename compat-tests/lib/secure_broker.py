"""A broker of the suite's own with every listener kind, and client certificates for it.

The security suites need listeners, TLS and SASL users that run.sh's plain broker lacks,
so each starts one broker (dist/src/cli/main.js) with:

  PLAINTEXT        plain, for nothing but the broker's own defaults
  SSL              TLS, server certificate from --tls-dev, no client certificate asked
  MTLS (SSL)       TLS with ssl.client.auth=required, trusting the --tls-dev CA
  SASL_PLAINTEXT   PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (unsecured tokens)
  SASL_SSL         the same mechanisms over TLS

User alice has password alice-secret for PLAIN (JAAS) and both SCRAM mechanisms
(--add-scram). Client certificates are made with the openssl CLI: one signed by the
broker's development CA, one by a CA the broker does not know.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

from harness import Failure, Skip

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.path.join(HERE, '..', '..', 'dist', 'src', 'cli', 'main.js')
USER = 'alice'
PASSWORD = 'alice-secret'
REQUIRE = os.environ.get('SAMSA_REQUIRE_CLIENTS') == '1'

LISTENERS = ['PLAINTEXT', 'SSL', 'MTLS', 'SASL_PLAINTEXT', 'SASL_SSL']
PROTOCOLS = {'PLAINTEXT': 'PLAINTEXT', 'SSL': 'SSL', 'MTLS': 'SSL',
             'SASL_PLAINTEXT': 'SASL_PLAINTEXT', 'SASL_SSL': 'SASL_SSL'}


class SecureBroker:
    LISTENERS = LISTENERS
    NEEDS_TLS = True

    @staticmethod
    def cli():
        return CLI

    def __init__(self, prefix):
        self.dir = tempfile.mkdtemp(prefix='samsa-compat-%s-' % prefix)
        self.data = os.path.join(self.dir, 'data')
        self.proc = None
        self.addresses = {}
        self.ca_file = None
        self.start()

    def args(self):
        ca = os.path.join(self.data, 'tls-dev', 'ca.crt')
        overrides = {
            'listeners': ','.join('%s://127.0.0.1:0' % name for name in LISTENERS),
            'listener.security.protocol.map': ','.join('%s:%s' % kv for kv in PROTOCOLS.items()),
            'listener.name.mtls.ssl.client.auth': 'required',
            # The development CA is created by --tls-dev before the listeners read their settings.
            'listener.name.mtls.ssl.truststore.type': 'PEM',
            'listener.name.mtls.ssl.truststore.location': ca,
            'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER',
            'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_%s="%s";'
                                % (USER, PASSWORD),
        }
        out = ['node', CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--data-dir', self.data, '--tls-dev']
        for k, v in overrides.items():
            out += ['--override', '%s=%s' % (k, v)]
        for mech in ('SCRAM-SHA-256', 'SCRAM-SHA-512'):
            out += ['--add-scram', '%s=[name=%s,password=%s]' % (mech, USER, PASSWORD)]
        return out

    def start(self):
        if not os.path.exists(CLI):
            raise Failure('%s is missing: run npm run build' % CLI)
        self.stderr_path = os.path.join(self.dir, 'stderr')
        self.stderr = open(self.stderr_path, 'wb')
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.PIPE, stderr=self.stderr)
        # The ready line, or the broker's reason for not starting; never wait forever.
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode('utf-8', 'replace') if ready else ''
        if not line.startswith('samsa listening on'):
            self.kill()
            raise Failure('broker did not start: stdout %r\n      stderr: %s' % (line, self.stderr_tail()))
        self.line = line.strip()
        m = re.match(r'samsa listening on (\S+):(\d+) \((\w+)\)', line)
        self.addresses[m.group(3)] = '%s:%s' % (m.group(1), m.group(2))
        for name, host, port in re.findall(r' ([A-Z_]+)=(\S+):(\d+)', line):
            self.addresses[name] = '%s:%s' % (host, port)
        m = re.search(r' tls-dev-ca=(\S+)', line)
        self.ca_file = m.group(1) if m else None
        missing = [n for n in self.LISTENERS if n not in self.addresses]
        if missing or (self.NEEDS_TLS and not self.ca_file):
            self.kill()
            raise Failure('ready line lacks listeners %s or tls-dev-ca: %r' % (missing, line))

    def bootstrap(self, listener):
        return self.addresses[listener]

    @property
    def ca_key(self):
        return os.path.join(os.path.dirname(self.ca_file), 'ca.key')

    def stderr_tail(self, n=3000):
        try:
            with open(self.stderr_path, 'rb') as f:
                return f.read()[-n:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; the broker must exit 0 within 10 s."""
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            code = self.proc.returncode
            self._reap()
            raise Failure('broker died during the suite (exit %s): %s' % (code, self.stderr_tail()))
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure('broker did not exit within 10 s of SIGTERM')
        self._reap()
        if code != 0:
            raise Failure('broker exited with %s on SIGTERM: %s' % (code, self.stderr_tail()))

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reap()

    def _reap(self):
        self.proc.stdout.close()
        self.stderr.close()
        self.proc = None

    def close(self):
        try:
            self.kill()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


# ----------------------------------------------------------------- client certificates


def openssl_or_skip():
    path = shutil.which('openssl')
    if path:
        return path
    # CI installs openssl (.ci/run); there a missing one is a failure, not a skip.
    if REQUIRE:
        raise Failure('openssl CLI missing (SAMSA_REQUIRE_CLIENTS=1): apt-get install openssl')
    raise Skip('openssl CLI missing (apt-get install openssl)')


def _openssl(args, cwd):
    p = subprocess.run([openssl_or_skip()] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if p.returncode != 0:
        raise Failure('openssl %s failed: %s' % (' '.join(args[:2]), p.stderr.decode('utf-8', 'replace')[-1500:]))


def make_ca(workdir, name):
    """A self-signed CA (cert, key) in workdir."""
    crt, key = os.path.join(workdir, name + '.crt'), os.path.join(workdir, name + '.key')
    _openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=' + name,
              '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
              '-keyout', key, '-out', crt], workdir)
    return crt, key


def make_client_cert(workdir, name, ca_crt, ca_key, cn):
    """A client certificate (cert, key) for CN=cn signed by the given CA."""
    crt, key, csr = (os.path.join(workdir, name + ext) for ext in ('.crt', '.key', '.csr'))
    ext = os.path.join(workdir, name + '.ext')
    with open(ext, 'w') as f:
        f.write('basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n')
    _openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=%s/O=samsa-compat' % cn,
              '-keyout', key, '-out', csr], workdir)
    # -set_serial, not -CAcreateserial: nothing is written next to the broker's CA.
    _openssl(['x509', '-req', '-in', csr, '-CA', ca_crt, '-CAkey', ca_key, '-days', '2',
              '-set_serial', str(int(time.time() * 1000)), '-extfile', ext, '-out', crt], workdir)
    return crt, key


class ClientCerts:
    """Made on first use: `good` is signed by the broker's dev CA, `foreign` by another CA."""

    def __init__(self, broker):
        self.broker = broker
        self._made = None

    def _make(self):
        if self._made is None:
            d = os.path.join(self.broker.dir, 'client-certs')
            os.makedirs(d, exist_ok=True)
            good = make_client_cert(d, 'alice', self.broker.ca_file, self.broker.ca_key, USER)
            other_crt, other_key = make_ca(d, 'other-ca')
            foreign = make_client_cert(d, 'mallory', other_crt, other_key, 'mallory')
            self._made = (good, foreign, other_crt)
        return self._made

    @property
    def good(self):
        return self._make()[0]

    @property
    def foreign(self):
        return self._make()[1]

    @property
    def other_ca(self):
        """The other CA's certificate: a trust store that does not vouch for the broker."""
        return self._make()[2]
