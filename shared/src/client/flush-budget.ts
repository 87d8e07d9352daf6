/**
 * The client's side of the sync server's per-connection message budget (a token bucket per socket and
 * document, `SyncLimits.messagesBurst` / `messagesPerSecond`, 400 and 500/s by default): a sender that
 * stays inside a smaller bucket of its own batches its writes into fewer frames instead of being closed
 * with `rate-limited` and reconnecting. Each frame the client pushes is one sync message.
 */

/**
 * Defaults: 100 frames at once, then 250 per second, half the server's 500/s (room for awareness, keepalives
 * and re-syncs). A sender below 250 messages per second gets a frame per message (no added latency); past
 * that, its messages share frames, so receivers, who pay a signature check and a decryption per frame, see
 * at most 250 frames/s from it. Measured with bench scenario (a) (200 msg/s to 50 members, receivers in their
 * own processes, quiet 2-core box, same code otherwise): a budget of 100/s made half the messages wait for a
 * token (1,600 frames for 3,000 messages; send pipeline p50 5.9 ms, wire p50 10.3 ms); with a frame per
 * message the pipeline p50 is 1.1-1.4 ms and wire p50 4.5-5.2 ms, at ~10% more receiver CPU.
 */
export const FLUSH_BURST = 100;
/** See `FLUSH_BURST`. */
export const FLUSH_PER_SECOND = 250;

/**
 * A token bucket that may go into debt: `take` always succeeds (a frame that was sealed is sent anyway) and
 * `delay` says how long to wait before the next flush so the average stays at `perSecond`.
 */
export class FlushBudget {
  #tokens: number;
  #at: number;
  constructor(
    readonly capacity = FLUSH_BURST,
    readonly perSecond = FLUSH_PER_SECOND,
    private readonly now: () => number = Date.now,
  ) {
    if (!(capacity >= 1) || !(perSecond > 0)) throw new RangeError('capacity must be >= 1 and perSecond > 0');
    this.#tokens = capacity;
    this.#at = now();
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((t - this.#at) * this.perSecond) / 1000);
    this.#at = t;
  }

  /** Tokens available now (negative while in debt). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Milliseconds until one token is available (0: flush now). */
  delay(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) * 1000) / this.perSecond);
  }

  /** Spends `n` tokens (one per frame pushed); may leave the bucket in debt. */
  take(n = 1): void {
    this.#refill();
    this.#tokens -= n;
  }
}
