// The reports a test page POSTs back to the test's own HTTP server, and waiting for one: the
// last report, and a promise for the first one from now on that a predicate accepts (or that
// `failed` says is a failure), rejected after a timeout with the last report seen; and the
// page's own HTTP server. Used by the Firefox page server and the Agents SDK page.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export class PageReports<R> {
  #last: R | undefined;
  readonly #waiters = new Set<(r: R) => void>();
  /** When given: a report that means the page failed (its text), which rejects every wait at once. */
  readonly #failed: ((r: R) => string | undefined) | undefined;

  constructor(failed?: (r: R) => string | undefined) {
    this.#failed = failed;
  }

  get last(): R | undefined {
    return this.#last;
  }

  /** A report arrived. */
  push(report: R): void {
    this.#last = report;
    for (const w of [...this.#waiters]) w(report);
  }

  /** Resolves with the first report (from now on) that `ok` accepts; rejects after `timeoutMs` with the last one seen. */
  waitFor(ok: (r: R) => boolean, timeoutMs: number, what: string): Promise<R> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error, r?: R): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve(r!);
      };
      const timer = setTimeout(
        () => done(new Error(`${what}: not within ${timeoutMs} ms; last report ${JSON.stringify(this.#last)}`)),
        timeoutMs,
      );
      const check = (r: R): void => {
        if (ok(r)) return done(undefined, r);
        const failure = this.#failed?.(r);
        if (failure !== undefined) done(new Error(`${what}: the page failed: ${failure}\nreport: ${JSON.stringify(r)}`));
      };
      this.#waiters.add(check);
    });
  }
}

/**
 * A test page's own HTTP server on `host` (127.0.0.1, opened as localhost, unless given): `serve`
 * answers each request; a rejection answers `errorStatus` with its text.
 */
export async function listenPageServer(
  serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  errorStatus: number,
  host = '127.0.0.1',
): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(errorStatus, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '127.0.0.1' ? 'localhost' : host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
