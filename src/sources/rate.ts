/**
 * Request budgets shared by all the work of one process: a token bucket per key (account and
 * region for CloudTrail LookupEvents, whose limit is 2 requests per second per account and
 * region: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html).
 * Concurrent lookups for several findings of one account wait for the same bucket instead of
 * each being throttled.
 */

/** A clock and a sleep, handed in so tests control time. */
export interface Timer {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimer: Timer = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Token buckets by key: `ratePerSecond` tokens a second, at most `burst` saved. */
export class RateBudget {
  private readonly buckets = new Map<string, { tokens: number; at: number; queue: Promise<void> }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly timer: Timer = realTimer,
  ) {}

  /**
   * Waits until a request under `key` may be sent. Calls for one key are served in order.
   * @throws Error when the wait would end after `deadline` (epoch ms): the caller stops and says so.
   */
  async take(key: string, deadline = Infinity): Promise<void> {
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.burst, at: this.timer.now(), queue: Promise.resolve() };
      this.buckets.set(key, b);
    }
    const bucket = b;
    const turn = bucket.queue.then(async () => {
      const now = this.timer.now();
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
      if (bucket.tokens < 1) {
        const wait = ((1 - bucket.tokens) / this.ratePerSecond) * 1000;
        if (now + wait > deadline) throw new Error(`request budget for ${key}: no slot before the deadline`);
        await this.timer.sleep(wait);
        bucket.tokens = 1;
        bucket.at = this.timer.now();
      }
      bucket.tokens -= 1;
    });
    bucket.queue = turn.catch(() => undefined);
    return turn;
  }
}
