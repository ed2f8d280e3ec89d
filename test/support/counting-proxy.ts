/**
 * An HTTP proxy in front of the upstream registry that records every publish (PUT) it forwards, by
 * package and version, with the upstream's answer; and can delay publishes on both sides of the
 * upstream call so that a kill lands mid-publish more often. The forwarding is the minimal part of
 * `hold-proxy.ts`, which records statuses only.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One publish the upstream answered. */
export interface UpstreamPut {
  readonly name: string;
  readonly versions: readonly string[];
  readonly status: number;
}

/** Options of {@link startCountingProxy}. */
export interface StartCountingProxyOptions {
  /** Milliseconds to wait before forwarding a PUT, and again before answering it. */
  readonly delayMs?: () => number;
}

/** The proxy and what it saw. */
export interface CountingProxy {
  readonly url: string;
  readonly puts: readonly UpstreamPut[];
  /** How many PUTs of `name@version` the upstream accepted (2xx). */
  accepted(name: string, version: string): number;
  close(): Promise<void>;
}

function describePut(body: Buffer): { name: string; versions: string[] } {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { name?: unknown; versions?: unknown };
    const versions =
      typeof doc.versions === 'object' && doc.versions !== null ? Object.keys(doc.versions) : [];
    return { name: typeof doc.name === 'string' ? doc.name : '?', versions };
  } catch {
    return { name: '?', versions: [] };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the proxy on 127.0.0.1 in front of `target`. */
export async function startCountingProxy(
  target: string,
  options: StartCountingProxyOptions = {},
): Promise<CountingProxy> {
  const upstream = new URL(target);
  const delay = options.delayMs ?? (() => 0);
  const puts: UpstreamPut[] = [];
  const sockets = new Set<Socket>();

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; contentType: string; payload: Buffer }> =>
    new Promise((resolve) => {
      // Identity encoding only: the answer is passed on with its content type alone, so a gzipped body
      // (Verdaccio compresses larger packuments) would reach the gate without its content-encoding.
      const headers = { ...req.headers, host: upstream.host };
      delete headers['accept-encoding'];
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              contentType: String(res.headers['content-type'] ?? 'application/json'),
              payload: Buffer.concat(chunks),
            }),
          );
          res.on('error', () =>
            resolve({ status: 502, contentType: 'application/json', payload: Buffer.alloc(0) }),
          );
        },
      );
      out.on('error', () =>
        resolve({ status: 502, contentType: 'application/json', payload: Buffer.alloc(0) }),
      );
      out.end(body);
    });

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // The gate may die mid-request: its socket errors must not reach the process.
    req.on('error', () => {});
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const isPublish = req.method === 'PUT';
        if (isPublish) await sleep(delay());
        // Forwarded even if the gate died meanwhile: the upstream may store a package whose publisher
        // never hears so, which is the case the gate's digest comparison after a 409 exists for.
        const answer = await forward(req, body);
        if (isPublish) {
          puts.push({ ...describePut(body), status: answer.status });
          await sleep(delay());
        }
        if (!res.destroyed) {
          res.writeHead(answer.status, { 'content-type': answer.contentType });
          res.end(answer.payload);
        }
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    puts,
    accepted: (name, version) =>
      puts.filter((p) => p.name === name && p.versions.includes(version) && p.status >= 200 && p.status < 300)
        .length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
