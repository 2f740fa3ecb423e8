"""A broker of the suite's own with the authorizer on and SASL/PLAIN users, for the ACL suites.

Listeners: PLAINTEXT (unused by the cases) and SASL_PLAINTEXT with PLAIN users admin (a
super user), alice and bob. `authorizer.class.name` is Kafka's StandardAuthorizer, so a user
without ACLs is refused everything; the suites grant rights with real clients' admin APIs
(kafka-python's create_acls) or, where the client has none, through the admin user.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from secure_broker import SecureBroker  # noqa: E402

USERS = {'admin': 'admin-secret', 'alice': 'alice-secret', 'bob': 'bob-secret'}
STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer'


class AclBroker(SecureBroker):
    LISTENERS = ['PLAINTEXT', 'SASL_PLAINTEXT']
    NEEDS_TLS = False

    def args(self):
        jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required %s;' % ' '.join(
            'user_%s="%s"' % kv for kv in USERS.items())
        overrides = {
            'listeners': 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
            'sasl.enabled.mechanisms': 'PLAIN',
            'sasl.jaas.config': jaas,
            'authorizer.class.name': STANDARD_AUTHORIZER,
            # ANONYMOUS (the PLAINTEXT listener) is the suites' setup path: topics and ACLs by wire.
            'super.users': 'User:admin;User:ANONYMOUS',
        }
        out = ['node', self.cli(), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', self.data, '--http-port', '0']
        for k, v in overrides.items():
            out += ['--override', '%s=%s' % (k, v)]
        return out

    def sasl_bootstrap(self):
        return self.bootstrap('SASL_PLAINTEXT')
