// The reports a test page POSTs back to the test's own HTTP server, and waiting for one: the
// last report, and a promise for the first one from now on that a predicate accepts (or that
// `failed` says is a failure), rejected after a timeout with the last report seen. Used by the
// Firefox page server and the Agents SDK page.
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
