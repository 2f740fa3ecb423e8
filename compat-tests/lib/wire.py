"""Minimal Kafka wire requests with the standard library only, for suites whose client
cannot do them (kcat cannot create topics or read committed offsets).

create_topic(name, partitions)           CreateTopics v2
committed_offsets(group, topic, parts)   OffsetFetch v1 -> {partition: offset}
describe_group(group)                    DescribeGroups v0 -> (state, protocol_type, protocol, [member ids])
create_acls(bindings, address)           CreateAcls v1 -> [error codes]
"""
import socket
import struct

from harness import bootstrap


def _string(s):
    b = s.encode('utf-8')
    return struct.pack('>h', len(b)) + b


class _Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        size = struct.calcsize(fmt)
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return v

    def string(self):
        n = self.take('>h')
        if n < 0:
            return None
        s = self.data[self.pos:self.pos + n].decode('utf-8')
        self.pos += n
        return s

    def bytes(self):
        n = self.take('>i')
        if n < 0:
            return None
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b


def _request(api_key, version, body, timeout=10.0, address=None):
    host, port = (address or bootstrap()).rsplit(':', 1)
    header = struct.pack('>hhi', api_key, version, 1) + _string('samsa-compat-wire')
    frame = header + body
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(struct.pack('>i', len(frame)) + frame)
        size = struct.unpack('>i', _recv(s, 4))[0]
        data = _recv(s, size)
    r = _Reader(data)
    r.take('>i')  # correlation id
    return r


def _recv(s, n):
    out = b''
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise IOError('connection closed by the broker')
        out += chunk
    return out


def create_topic(name, partitions, address=None):
    """Creates a topic; an existing one is fine. Returns the error code."""
    body = struct.pack('>i', 1) + _string(name) + struct.pack('>ihii', partitions, 1, 0, 0) + struct.pack('>ib', 10000, 0)
    r = _request(19, 2, body, address=address)
    r.take('>i')  # throttle
    n = r.take('>i')
    code = 0
    for _ in range(n):
        r.string()
        code = r.take('>h')
        r.string()
    if code not in (0, 36):
        raise IOError('CreateTopics %s failed with error %d' % (name, code))
    return code


def committed_offsets(group, topic, partitions):
    body = _string(group) + struct.pack('>i', 1) + _string(topic) + struct.pack('>i', len(partitions))
    body += b''.join(struct.pack('>i', p) for p in partitions)
    r = _request(9, 1, body)
    out = {}
    for _ in range(r.take('>i')):
        r.string()
        for _ in range(r.take('>i')):
            p = r.take('>i')
            offset = r.take('>q')
            r.string()
            code = r.take('>h')
            if code != 0:
                raise IOError('OffsetFetch error %d for %s[%d]' % (code, topic, p))
            out[p] = offset
    return out


def describe_group(group):
    body = struct.pack('>i', 1) + _string(group)
    r = _request(15, 0, body)
    r.take('>i')  # groups count
    code = r.take('>h')
    r.string()
    state = r.string()
    protocol_type = r.string()
    protocol = r.string()
    members = []
    for _ in range(r.take('>i')):
        members.append(r.string())
        r.string()
        r.string()
        r.bytes()
        r.bytes()
    if code != 0:
        raise IOError('DescribeGroups error %d for %s' % (code, group))
    return state, protocol_type, protocol, members


def api_versions():
    """ApiVersions v0 -> {api_key: (min_version, max_version)}."""
    r = _request(18, 0, b'')
    code = r.take('>h')
    if code != 0:
        raise IOError('ApiVersions error %d' % code)
    out = {}
    for _ in range(r.take('>i')):
        key = r.take('>h')
        out[key] = (r.take('>h'), r.take('>h'))
    return out


# Kafka's ACL codes: resource TOPIC 2, GROUP 3; pattern LITERAL 3, PREFIXED 4;
# operation READ 3, WRITE 4, DESCRIBE 8; permission DENY 2, ALLOW 3.
def create_acls(bindings, address):
    """CreateAcls v1 on `address` (a listener where the caller may alter ACLs).
    bindings: (resource_type, name, pattern_type, principal, host, operation, permission)."""
    body = struct.pack('>i', len(bindings))
    for rt, name, pt, principal, host, op, perm in bindings:
        body += struct.pack('>b', rt) + _string(name) + struct.pack('>b', pt) + _string(principal) + _string(host) + struct.pack('>bb', op, perm)
    r = _request(30, 1, body, address=address)
    r.take('>i')  # throttle
    codes = []
    for _ in range(r.take('>i')):
        codes.append(r.take('>h'))
        r.string()
    return codes
