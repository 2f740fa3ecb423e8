"""A simulated cluster of the suite's own: `samsa serve --brokers N` (one process, N brokers).

Parses the ready line's `brokers=id@host:port,...` and `http=host:port`, and drives the
cluster through its HTTP admin routes (POST /admin/brokers/{id}/stop, ...), as a test in
any language would.
"""
import json
import re
import urllib.error
import urllib.request

from harness import Failure
from secure_broker import CLI, SecureBroker


class ClusterBroker(SecureBroker):
    LISTENERS = ['PLAINTEXT']
    NEEDS_TLS = False

    def __init__(self, prefix, brokers=3):
        self.count = brokers
        super().__init__(prefix)
        m = re.search(r' brokers=(\S+)', self.line)
        if not m:
            self.kill()
            raise Failure('ready line lacks brokers=: %r' % self.line)
        self.brokers = {}
        for entry in m.group(1).split(','):
            node, addr = entry.split('@', 1)
            self.brokers[int(node)] = addr
        m = re.search(r' http=(\S+)', self.line)
        self.http = 'http://%s' % m.group(1)

    def args(self):
        return ['node', CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--http-port', '0',
                '--data-dir', self.data, '--brokers', str(self.count)]

    @property
    def bootstrap_servers(self):
        return ','.join(self.brokers[i] for i in sorted(self.brokers))

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.http + path, data=data, method=method,
                                     headers={'content-type': 'application/json'} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return json.loads(res.read())
        except urllib.error.HTTPError as e:
            raise Failure('%s %s: HTTP %d %s' % (method, path, e.code, e.read().decode('utf-8', 'replace')))

    def stop_broker(self, node):
        return self.admin('POST', '/admin/brokers/%d/stop' % node)

    def start_broker(self, node):
        return self.admin('POST', '/admin/brokers/%d/start' % node)

    def move_leader(self, topic, partition, node):
        return self.admin('POST', '/admin/partitions/%s/%d/leader' % (topic, partition), {'leader': node})

    def partitions(self, topic):
        return self.admin('GET', '/admin/partitions/%s' % topic)['partitions']
