import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MedallionError } from '../shared/domain/errors';

/**
 * `medallion ui`: serves the run console on the loopback interface only. Each request of the page
 * reads the lake again (a reload shows the runs since), and the page is the one `medallion report`
 * writes.
 */

export const LOOPBACK = '127.0.0.1';

/** The port is taken, or not ours to listen on. */
export class ConsolePortError extends MedallionError {
  readonly retryable = false;
}

export interface ConsoleServer {
  readonly url: string;
  readonly port: number;
  /** Stops listening and ends open connections; resolves once the server is closed. */
  close(): Promise<void>;
}

export async function startConsoleServer(options: {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Renders the page afresh (called for each request of `/`). */
  readonly page: () => Promise<string>;
  /** Other pages by path (`/data-dictionary.html`): their HTML, read afresh, or undefined (404). */
  readonly pages?: Readonly<Record<string, () => string | undefined>>;
  readonly onError?: (error: unknown) => void;
}): Promise<ConsoleServer> {
  let hosts: ReadonlySet<string> = new Set();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    // Only pages addressed to this machine by name: a web page elsewhere cannot rebind a domain of
    // its own to 127.0.0.1 and read the lake through the browser (DNS rebinding).
    if (!hosts.has((request.headers.host ?? '').toLowerCase())) {
      response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`forbidden: the console answers to ${[...hosts].join(' or ')} only\n`);
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      response.end('method not allowed\n');
      return;
    }
    const other = path === undefined ? undefined : options.pages?.[path];
    const otherHtml = other?.();
    if (otherHtml !== undefined) {
      response.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(otherHtml),
      });
      response.end(request.method === 'HEAD' ? undefined : otherHtml);
      return;
    }
    if (path !== '/' && path !== '/index.html') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`not found: ${path} (the console is at /)\n`);
      return;
    }
    options
      .page()
      .then((html) => {
        response.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-length': Buffer.byteLength(html),
        });
        response.end(request.method === 'HEAD' ? undefined : html);
      })
      .catch((error: unknown) => {
        options.onError?.(error);
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE' || error.code === 'EACCES'
          ? new ConsolePortError(
              `cannot listen on ${LOOPBACK}:${options.port ?? 0}: ${error.code} (pick another --port, or 0 for a free one)`,
            )
          : error,
      ),
    );
    server.listen(options.port ?? 0, LOOPBACK, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hosts = new Set([`${LOOPBACK}:${port}`, `localhost:${port}`]);
  return {
    url: `http://${LOOPBACK}:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
