/**
 * The broker's HTTP server (node:http): the web console at /, its JSON API under /api/,
 * fault injection under /admin/ (fault-admin-api.ts),
 * Prometheus metrics at /metrics, and /healthz and /readyz for orchestrators.
 *
 * It shares the broker's thread, so every handler is short: no request waits on another
 * HTTP client, bodies are capped, and a client that stalls mid-request only holds its own
 * socket until the header/request timeouts drop it.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import type { Broker } from '../broker';
import * as api from './console-api';
import { HttpError, allow } from './console-api';
import { faultAdminRoute } from './fault-admin-api';

export interface HttpServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const SAMPLE_INTERVAL_MS = 1000;
const SAMPLES = 120;

/** The console's files: next to the compiled server when copied, else in the source tree (no build step). */
const STATIC_DIR = [path.join(__dirname, 'static'), path.join(__dirname, '../../../src/http/static')].find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? path.join(__dirname, 'static');
const STATIC_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

interface Sample {
  t: number;
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

/**
 * JSON routes a module adds under /admin/ (the simulated cluster's, fault injection): given
 * the method and the path segments after /admin/, the answer, or undefined when the path is
 * not the module's. Throw HttpError for 4xx answers.
 */
export type AdminRoutes = (method: string, parts: string[], body: () => Promise<unknown>) => Promise<unknown>;

export async function startHttpServer(broker: Broker, host: string, port: number): Promise<HttpServer> {
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const m = broker.cluster.metrics;
    if (!m) return;
    samples.push({ t: Date.now(), ...m.totals });
    if (samples.length > SAMPLES) samples.shift();
  }, SAMPLE_INTERVAL_MS);
  sampler.unref();

  /** Per-second rates between consecutive samples, for the overview's sparkline. */
  const throughput = () => {
    const out: { t: number; messagesIn: number; bytesIn: number; messagesOut: number; bytesOut: number }[] = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1];
      const b = samples[i];
      const s = (b.t - a.t) / 1000 || 1;
      out.push({ t: b.t, messagesIn: (b.messagesIn - a.messagesIn) / s, bytesIn: (b.bytesIn - a.bytesIn) / s, messagesOut: (b.messagesOut - a.messagesOut) / s, bytesOut: (b.bytesOut - a.bytesOut) / s });
    }
    return out;
  };

  const server = http.createServer((req, res) => {
    handle(broker, req, res, throughput).catch((err) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) broker.cluster.log.error('console request failed', { url: req.url, error: (err as Error).stack ?? String(err) });
      if (!res.headersSent) sendJson(res, status, { error: (err as Error).message, status });
      else res.destroy();
    });
  });
  // A client that sends half a request is dropped after these, whatever it does.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => broker.cluster.log.error('HTTP server error', { error: err.message }));
  const bound = (server.address() as net.AddressInfo).port;
  return {
    host,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sampler);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `Request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'Request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, `Bad URL encoding: ${s}`);
  }
}

/** A write-and-remove probe in the data dir: /healthz fails when storage refuses writes. */
function storageWritable(dir: string): string | null {
  const probe = path.join(dir, `.healthz-${process.pid}`);
  try {
    fs.writeFileSync(probe, 'ok');
    fs.unlinkSync(probe);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

async function handle(broker: Broker, req: http.IncomingMessage, res: http.ServerResponse, throughput: () => unknown): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const p = url.pathname;
  if (p === '/metrics') {
    allow(req.method, ['GET', 'HEAD']);
    const m = broker.cluster.metrics;
    if (!m) throw new HttpError(503, 'metrics are off');
    const text = await m.registry.metrics();
    res.writeHead(200, { 'content-type': m.registry.contentType, 'cache-control': 'no-store' });
    res.end(text);
    return;
  }
  if (p === '/healthz') {
    const storageError = storageWritable(broker.config.dataDir);
    const ok = broker.listening && storageError === null;
    sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'failing', listening: broker.listening, storageWritable: storageError === null, ...(storageError ? { storageError } : {}) });
    return;
  }
  if (p === '/readyz') {
    // Ready once every listener is open (topics and their logs were loaded before that).
    const ready = broker.listening;
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'starting' });
    return;
  }
  if (p.startsWith('/admin/')) {
    const parts = p.slice(7).split('/').map(decodeSegment);
    const body = () => readBody(req);
    const answer = await faultAdminRoute(broker.cluster.faults, req.method, parts, body);
    if (answer) {
      sendJson(res, answer.status, answer.body);
      return;
    }
    for (const routes of broker.adminRoutes) {
      const routed = await routes(req.method ?? 'GET', parts, body);
      if (routed !== undefined) {
        sendJson(res, 200, routed);
        return;
      }
    }
    throw new HttpError(404, `No admin route ${req.method} ${p}`);
  }
  if (p.startsWith('/api/')) {
    sendJson(res, 200, await apiRoute(broker, req, p.slice(5).split('/').map(decodeSegment), url.searchParams, throughput));
    return;
  }
  const file = p === '/' ? 'index.html' : p.startsWith('/static/') ? p.slice(8) : null;
  if (file !== null && STATIC_FILES[file]) {
    allow(req.method, ['GET', 'HEAD']);
    const body = fs.readFileSync(path.join(STATIC_DIR, file));
    res.writeHead(200, { 'content-type': STATIC_FILES[file], 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  throw new HttpError(404, `Not found: ${p}`);
}

async function apiRoute(broker: Broker, req: http.IncomingMessage, parts: string[], q: URLSearchParams, throughput: () => unknown): Promise<unknown> {
  const m = req.method;
  const [a, b, c, d, e] = parts;
  const n = parts.length;
  if (a === 'overview' && n === 1) {
    allow(m, ['GET']);
    return api.overview(broker, throughput());
  }
  if (a === 'topics') {
    if (n === 1) {
      allow(m, ['GET', 'POST']);
      return m === 'POST' ? api.createTopic(broker, await readBody(req)) : api.topics(broker);
    }
    if (n === 2) {
      allow(m, ['GET', 'DELETE']);
      return m === 'DELETE' ? api.deleteTopic(broker, b) : api.topic(broker, b);
    }
    if (n === 3 && c === 'messages') {
      allow(m, ['POST']);
      return api.produce(broker, b, await readBody(req));
    }
    if (n === 5 && c === 'partitions' && e === 'messages') {
      allow(m, ['GET']);
      const params: api.BrowseParams = {};
      for (const k of ['offset', 'timestamp', 'newest', 'limit'] as const) {
        const v = q.get(k);
        if (v !== null) params[k] = v;
      }
      return api.browse(broker, b, d, params);
    }
  }
  if (a === 'groups') {
    if (n === 1) {
      allow(m, ['GET']);
      return api.groups(broker);
    }
    if (n === 2) {
      allow(m, ['GET']);
      return api.group(broker, b);
    }
  }
  throw new HttpError(404, `No API route ${m} /api/${parts.join('/')}`);
}
