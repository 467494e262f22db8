// One metrics module for every Parley process: counters, gauges and histograms with labels,
// rendered in the Prometheus text exposition format 0.0.4. It is not a client library for
// pushing, and it has no global registry: each process makes one MetricsRegistry and passes it
// to whatever serves /metrics (src/common/ops-http.ts).
//
// API (stable; relay and transceiver use it):
//   const reg = new MetricsRegistry();
//   const c = reg.counter({ name, help, labelNames? });   c.inc(n?)  c.labels(...values).inc(n?)
//   const g = reg.gauge({ name, help, labelNames? });     g.set(v)  g.inc(n?)  g.dec(n?)  g.labels(...).set(v)
//   const h = reg.histogram({ name, help, buckets, labelNames? });   h.observe(v)  h.labels(...).observe(v)
//   reg.onCollect(() => { … });   runs before each render: mirror state kept elsewhere
//                                  (c.labels(..).set(total) / h.labels(..).load(counts, sum, n))
//   reg.render(): string;  PROMETHEUS_CONTENT_TYPE
//   reg.definitions(): { name, type, labelNames }[]   what a scrape can show, series or not
// Hot paths should keep the child from labels(...) and call inc() on it: no lookup per event.
// Names follow Prometheus rules (counters end in _total); a name registered twice throws.

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds, ascending; +Inf is added. */
  readonly buckets: readonly number[];
}

export class CounterChild {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
  /** Sets the total directly: only for mirroring a monotonic count kept elsewhere (onCollect). */
  set(total: number): void {
    this.value = total;
  }
}

export class GaugeChild {
  value = 0;
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

export class HistogramChild {
  readonly bounds: readonly number[];
  /** Per-bucket (non-cumulative) counts; the last is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }
  /** Replaces the state with counts kept elsewhere (non-cumulative, bounds.length + 1 of them). */
  load(counts: ArrayLike<number>, sum: number, count: number): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] = counts[i] ?? 0;
    this.sum = sum;
    this.count = count;
  }
}

type Child = CounterChild | GaugeChild | HistogramChild;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric<C extends Child> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  readonly #children = new Map<string, { values: readonly string[]; child: C }>();

  constructor(o: MetricOptions) {
    if (!NAME.test(o.name)) throw new TypeError(`bad metric name '${o.name}'`);
    for (const l of o.labelNames ?? []) if (!LABEL.test(l) || l === 'le') throw new TypeError(`bad label name '${l}'`);
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames ?? [];
  }

  protected abstract make(): C;

  /** The child for these label values (in labelNames order), created on first use. */
  labels(...values: string[]): C {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name} takes ${this.labelNames.length} label values, not ${values.length}`);
    }
    const key = values.join('\u0000');
    let e = this.#children.get(key);
    if (!e) {
      e = { values: [...values], child: this.make() };
      this.#children.set(key, e);
    }
    return e.child;
  }

  /** Drops every child (e.g. a worker that is gone). */
  reset(): void {
    this.#children.clear();
  }

  children(): Iterable<{ values: readonly string[]; child: C }> {
    return this.#children.values();
  }
}

export class Counter extends Metric<CounterChild> {
  readonly type = 'counter';
  protected make(): CounterChild {
    return new CounterChild();
  }
  inc(n = 1): void {
    this.labels().inc(n);
  }
}

export class Gauge extends Metric<GaugeChild> {
  readonly type = 'gauge';
  protected make(): GaugeChild {
    return new GaugeChild();
  }
  set(v: number): void {
    this.labels().set(v);
  }
  inc(n = 1): void {
    this.labels().inc(n);
  }
  dec(n = 1): void {
    this.labels().dec(n);
  }
}

export class Histogram extends Metric<HistogramChild> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  constructor(o: HistogramOptions) {
    super(o);
    for (let i = 1; i < o.buckets.length; i++) {
      if (!(o.buckets[i] > o.buckets[i - 1])) throw new TypeError(`${o.name}: buckets must ascend`);
    }
    this.buckets = [...o.buckets];
  }
  protected make(): HistogramChild {
    return new HistogramChild(this.buckets);
  }
  observe(v: number): void {
    this.labels().observe(v);
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i])}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export class MetricsRegistry {
  readonly #metrics = new Map<string, Counter | Gauge | Histogram>();
  readonly #collectors: (() => void)[] = [];

  #add<M extends Counter | Gauge | Histogram>(m: M): M {
    if (this.#metrics.has(m.name)) throw new TypeError(`metric ${m.name} is already registered`);
    this.#metrics.set(m.name, m);
    return m;
  }

  counter(o: MetricOptions): Counter {
    return this.#add(new Counter(o));
  }
  gauge(o: MetricOptions): Gauge {
    return this.#add(new Gauge(o));
  }
  histogram(o: HistogramOptions): Histogram {
    return this.#add(new Histogram(o));
  }

  /** Runs `fn` before every render; a throwing collector is skipped, not fatal. */
  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  /** Every registered metric's name, type and label names, whether or not it has series yet:
   *  what dashboards and alert rules may refer to (test/deploy/monitoring.test.ts). */
  definitions(): { name: string; type: 'counter' | 'gauge' | 'histogram'; labelNames: readonly string[] }[] {
    return [...this.#metrics.values()].map((m) => ({ name: m.name, type: m.type, labelNames: m.labelNames }));
  }

  render(): string {
    for (const fn of this.#collectors) {
      try {
        fn();
      } catch {
        // A broken collector must not take /metrics down; its metrics just stay stale.
      }
    }
    const out: string[] = [];
    for (const m of this.#metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${m.name} ${m.type}`);
      for (const { values, child } of m.children()) {
        if (child instanceof HistogramChild) {
          let cum = 0;
          child.bounds.forEach((b, i) => {
            cum += child.counts[i];
            out.push(`${m.name}_bucket${labelText(m.labelNames, values, `le="${num(b)}"`)} ${cum}`);
          });
          cum += child.counts[child.bounds.length];
          out.push(`${m.name}_bucket${labelText(m.labelNames, values, 'le="+Inf"')} ${cum}`);
          out.push(`${m.name}_sum${labelText(m.labelNames, values)} ${num(child.sum)}`);
          out.push(`${m.name}_count${labelText(m.labelNames, values)} ${child.count}`);
        } else {
          out.push(`${m.name}${labelText(m.labelNames, values)} ${num(child.value)}`);
        }
      }
    }
    return out.join('\n') + '\n';
  }
}
