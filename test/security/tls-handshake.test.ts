/** Real TLS handshakes on 127.0.0.1 against servers built from tlsServerOptions. */
import * as tls from 'tls';
import { tlsServerOptions } from '../../src/security/tls-options';
import { sslPrincipal, verifiedPeerCertificate } from '../../src/security/ssl-principal';
import { testPki } from '../helpers/certs';

interface ServerSide {
  authorized: boolean;
  principal: string | null;
  peerSubject: string | null;
}

interface Running {
  port: number;
  accepted: ServerSide[];
  close(): Promise<void>;
}

async function startServer(config: Record<string, string>): Promise<Running> {
  const pki = testPki();
  const all: Record<string, string> = {
    'ssl.keystore.key': pki.server.key,
    'ssl.keystore.certificate.chain': pki.server.cert + pki.ca.cert,
    'ssl.truststore.certificates': pki.ca.cert,
    ...config,
  };
  const accepted: ServerSide[] = [];
  const server = tls.createServer(tlsServerOptions((k) => all[k] ?? null, 'SSL'), (socket) => {
    const cert = verifiedPeerCertificate(socket);
    const presented = socket.getPeerX509Certificate();
    accepted.push({
      authorized: socket.authorized,
      principal: cert === null ? null : sslPrincipal(cert, all['ssl.principal.mapping.rules'] ?? null),
      peerSubject: presented === undefined ? null : presented.subject,
    });
    socket.end('hello');
  });
  server.on('tlsClientError', () => {}); // refused handshakes are expected in these tests
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<tls.TLSSocket>();
  server.on('secureConnection', (s) => sockets.add(s));
  return {
    port: (server.address() as { port: number }).port,
    accepted,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

type Outcome = { ok: true; data: string; cipher: tls.CipherNameAndProtocol; protocol: string | null } | { ok: false; error: string };

/** Connects and waits for the server's greeting; a refused handshake surfaces as an error or a bare close. */
function exchange(port: number, opts: tls.ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let data = '';
    let settled = false;
    const done = (o: Outcome): void => {
      if (!settled) {
        settled = true;
        sock.destroy();
        resolve(o);
      }
    };
    const sock = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ...opts });
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (data += d));
    sock.on('end', () =>
      done(data === 'hello' ? { ok: true, data, cipher: sock.getCipher(), protocol: sock.getProtocol() } : { ok: false, error: 'closed' }),
    );
    sock.on('error', (e) => done({ ok: false, error: e.message }));
    sock.on('close', () => done({ ok: false, error: 'closed' }));
  });
}

const pki = () => testPki();

describe('TLS handshakes', () => {
  let server: Running | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  test('server authentication only', async () => {
    server = await startServer({});
    const out = await exchange(server.port, { ca: pki().ca.cert });
    expect(out).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
    expect(server.accepted).toEqual([{ authorized: false, principal: null, peerSubject: null }]);
    // A client that does not trust our CA refuses the server.
    const untrusting = await exchange(server.port, { ca: pki().otherCa.cert });
    expect(untrusting).toMatchObject({ ok: false });
  });

  test('mutual TLS required: a client certificate from the CA is accepted and gives the principal', async () => {
    server = await startServer({ 'ssl.client.auth': 'required' });
    const out = await exchange(server.port, { ca: pki().ca.cert, key: pki().client.key, cert: pki().client.cert });
    expect(out.ok).toBe(true);
    expect(server.accepted).toEqual([
      { authorized: true, principal: 'CN=alice,OU=eng,O=Samsa Test', peerSubject: expect.stringContaining('CN=alice') },
    ]);
  });

  test('mutual TLS required: principal mapping rules apply', async () => {
    server = await startServer({
      'ssl.client.auth': 'required',
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),OU=eng,.*$/$1/U,DEFAULT',
    });
    await exchange(server.port, { ca: pki().ca.cert, key: pki().client.key, cert: pki().client.cert });
    expect(server.accepted.map((a) => a.principal)).toEqual(['ALICE']);
  });

  test('mutual TLS required: no certificate, or one from another CA, is refused', async () => {
    server = await startServer({ 'ssl.client.auth': 'required' });
    for (const protocol of ['TLSv1.2', 'TLSv1.3'] as const) {
      const none = await exchange(server.port, { ca: pki().ca.cert, maxVersion: protocol });
      expect(none.ok).toBe(false);
      const foreign = await exchange(server.port, {
        ca: pki().ca.cert,
        key: pki().otherClient.key,
        cert: pki().otherClient.cert,
        maxVersion: protocol,
      });
      expect(foreign.ok).toBe(false);
    }
    expect(server.accepted).toEqual([]);
  });

  test('client auth requested: anonymous without a certificate, no principal from an untrusted one', async () => {
    server = await startServer({ 'ssl.client.auth': 'requested' });
    const ca = pki().ca.cert;
    expect((await exchange(server.port, { ca })).ok).toBe(true);
    expect((await exchange(server.port, { ca, key: pki().otherClient.key, cert: pki().otherClient.cert })).ok).toBe(true);
    expect((await exchange(server.port, { ca, key: pki().client.key, cert: pki().client.cert })).ok).toBe(true);
    expect(server.accepted).toEqual([
      { authorized: false, principal: null, peerSubject: null },
      { authorized: false, principal: null, peerSubject: expect.stringContaining('CN=mallory') },
      { authorized: true, principal: 'CN=alice,OU=eng,O=Samsa Test', peerSubject: expect.stringContaining('CN=alice') },
    ]);
  });

  test('a TLSv1.2-only server refuses a TLSv1.3-only client', async () => {
    server = await startServer({ 'ssl.enabled.protocols': 'TLSv1.2' });
    const refused = await exchange(server.port, { ca: pki().ca.cert, minVersion: 'TLSv1.3' });
    expect(refused).toMatchObject({ ok: false });
    expect((refused as { error: string }).error).toMatch(/protocol version|alert/i);
    expect(await exchange(server.port, { ca: pki().ca.cert })).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
  });

  test('configured cipher suites are the ones negotiated', async () => {
    server = await startServer({ 'ssl.cipher.suites': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' });
    expect(await exchange(server.port, { ca: pki().ca.cert })).toMatchObject({
      ok: true,
      protocol: 'TLSv1.2',
      cipher: { name: 'ECDHE-RSA-AES256-GCM-SHA384' },
    });
    await server.close();

    server = await startServer({ 'ssl.cipher.suites': 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', 'ssl.enabled.protocols': 'TLSv1.2' });
    expect(await exchange(server.port, { ca: pki().ca.cert, ciphers: 'DHE-RSA-AES128-GCM-SHA256' })).toMatchObject({
      ok: true,
      cipher: { name: 'DHE-RSA-AES128-GCM-SHA256' },
    });
    await server.close();

    server = await startServer({ 'ssl.cipher.suites': 'TLS_CHACHA20_POLY1305_SHA256' });
    expect(await exchange(server.port, { ca: pki().ca.cert })).toMatchObject({
      ok: true,
      protocol: 'TLSv1.3',
      cipher: { name: 'TLS_CHACHA20_POLY1305_SHA256' },
    });
  });
});
