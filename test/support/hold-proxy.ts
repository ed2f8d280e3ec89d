/**
 * An HTTP proxy in front of the upstream that can hold a publish at a chosen moment, so a test can
 * kill the gate exactly between approval and upstream success.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** When to hold a matching PUT. */
export type HoldMode = 'before-upstream' | 'after-upstream' | 'delay' | 'pass';

/** The proxy and what it saw. */
export interface HoldProxy {
  readonly url: string;
  mode: HoldMode;
  /** Upstream PUT answers, in order (status codes). */
  readonly putStatuses: number[];
  /** Resolves when a PUT is being held. */
  held(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the proxy in front of `target`. */
export async function startHoldProxy(target: string): Promise<HoldProxy> {
  const upstream = new URL(target);
  let signalHeld: () => void = () => {};
  let heldPromise = new Promise<void>((r) => (signalHeld = r));
  const sockets = new Set<Socket>();
  const state: HoldProxy = {
    url: '',
    mode: 'pass',
    putStatuses: [],
    held: () => heldPromise,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const forward = (
    req: IncomingMessage,
    body: Buffer,
    onResponse: (status: number, headers: IncomingMessage['headers'], payload: Buffer) => void,
  ): void => {
    const out = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => onResponse(res.statusCode ?? 502, res.headers, Buffer.concat(chunks)));
      },
    );
    out.on('error', () => onResponse(502, {}, Buffer.alloc(0)));
    out.end(body);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isPublish = req.method === 'PUT';
      if (isPublish && state.mode === 'before-upstream') {
        // Never forwarded: the gate dies waiting.
        signalHeld();
        return;
      }
      forward(req, body, (status, headers, payload) => {
        if (isPublish) state.putStatuses.push(status);
        if (isPublish && state.mode === 'after-upstream') {
          // The upstream has the package; the gate never hears so.
          signalHeld();
          return;
        }
        if (isPublish && state.mode === 'delay') {
          // A slow upstream: the answer comes a second later (a publish in flight).
          signalHeld();
          setTimeout(() => {
            res.writeHead(status, { 'content-type': String(headers['content-type'] ?? 'application/json') });
            res.end(payload);
          }, 1000);
          return;
        }
        res.writeHead(status, {
          'content-type': String(headers['content-type'] ?? 'application/json'),
          // Verdaccio gzips larger documents: pass the encoding on, or the body is unreadable.
          ...(headers['content-encoding'] === undefined
            ? {}
            : { 'content-encoding': String(headers['content-encoding']) }),
        });
        res.end(payload);
      });
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const reset = (): void => {
    heldPromise = new Promise<void>((r) => (signalHeld = r));
  };
  return Object.assign(state, {
    held: () => heldPromise.then(() => reset()),
  });
}
