/**
 * A tiny Prometheus text-format registry (no dependency): counters, gauges read at scrape time, and
 * summaries of latencies (count, sum, and a rolling window for p50/p99). Served at GET /metrics.
 * Labels are fixed, low-cardinality values chosen in code — never user input, ids or content.
 */

type Labels = Readonly<Record<string, string>>;

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`;
}

interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'summary';
  render(): string[];
}

/** A monotonically increasing counter, optionally split by one fixed label set. */
export class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string) {}
  /** Adds `by` (default 1). */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.#values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.#values.set(key, entry);
  }
  /** Current value for a label set. */
  get(labels: Labels = {}): number {
    return this.#values.get(labelText(labels))?.value ?? 0;
  }
  render(): string[] {
    if (this.#values.size === 0) return [`${this.name} 0`];
    return [...this.#values.values()].map((e) => `${this.name}${labelText(e.labels)} ${e.value}`);
  }
}

/** A latency summary in seconds: count, sum, and p50/p99 over the last `window` observations. */
export class Summary {
  #count = 0;
  #sum = 0;
  readonly #window: number[] = [];
  constructor(readonly name: string, private readonly windowSize = 1024) {}
  observe(seconds: number): void {
    this.#count += 1;
    this.#sum += seconds;
    this.#window.push(seconds);
    if (this.#window.length > this.windowSize) this.#window.shift();
  }
  render(): string[] {
    const sorted = [...this.#window].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
    return [
      `${this.name}{quantile="0.5"} ${q(0.5)}`,
      `${this.name}{quantile="0.99"} ${q(0.99)}`,
      `${this.name}_sum ${this.#sum}`,
      `${this.name}_count ${this.#count}`,
    ];
  }
}

/** The registry of one server process. */
export class Metrics {
  readonly #metrics: Metric[] = [];

  /** WebSocket messages received and relayed, by kind (sync, awareness, other). */
  readonly messages = this.counter('parley_sync_messages_total', 'WebSocket messages received, by kind');
  /** Envelope updates persisted. */
  readonly updatesStored = this.counter('parley_sync_updates_stored_total', 'Envelope updates appended to the database');
  /** Bytes of envelope updates persisted. */
  readonly bytesStored = this.counter('parley_sync_stored_bytes_total', 'Bytes of envelope updates appended');
  /** Latency of appending an update (the time an acknowledgement waits for durability). */
  readonly storeLatency = this.summary('parley_sync_store_seconds', 'Latency of persisting one update before its acknowledgement (append call to commit, group-commit queueing included)');
  /** Rejections by reason (invalid-update, invalid-awareness, rate-limited, unauthorized, forbidden, too-large). */
  readonly rejections = this.counter('parley_sync_rejections_total', 'Document connections closed or refused, by reason');
  /** Server-side compactions. */
  readonly compactions = this.counter('parley_sync_compactions_total', 'Server-side structural compactions');
  /** HTTP responses by status class. */
  readonly httpResponses = this.counter('parley_http_responses_total', 'HTTP responses, by status class');
  /** Account rate-limit decisions this instance took alone because the shared store (Redis) failed. */
  readonly rateLimitFallbacks = this.counter('parley_rate_limit_fallbacks_total', 'Account rate-limit decisions taken from instance memory because Redis failed or timed out');
  /** Errors (5xx responses, failed stores, failed fan-out). */
  readonly errors = this.counter('parley_errors_total', 'Internal errors, by where they happened');

  /** Registers a counter. */
  counter(name: string, help: string): Counter {
    const c = new Counter(name);
    this.#metrics.push({ name, help, type: 'counter', render: () => c.render() });
    return c;
  }

  /** Registers a summary. */
  summary(name: string, help: string): Summary {
    const s = new Summary(name);
    this.#metrics.push({ name, help, type: 'summary', render: () => s.render() });
    return s;
  }

  /** Registers a gauge whose value is read at scrape time. */
  gauge(name: string, help: string, read: () => number): void {
    this.#metrics.push({ name, help, type: 'gauge', render: () => [`${name} ${read()}`] });
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  render(): string {
    const lines: string[] = [];
    for (const m of this.#metrics) {
      lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.render());
    }
    return `${lines.join('\n')}\n`;
  }
}
