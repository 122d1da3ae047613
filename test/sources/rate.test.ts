import { RateBudget, type Timer } from '../../src/sources/rate';

/** A fake clock: sleep advances time at once. */
function fakeTimer(): Timer & { t: number; sleeps: number[] } {
  const timer = {
    t: 0,
    sleeps: [] as number[],
    now: () => timer.t,
    sleep: async (ms: number) => {
      timer.sleeps.push(ms);
      timer.t += ms;
    },
  };
  return timer;
}

describe('RateBudget (pitfall 12: one shared budget per account and region)', () => {
  test('2 requests/s: the first two go at once, the next ones half a second apart', async () => {
    const timer = fakeTimer();
    const b = new RateBudget(2, 2, timer);
    const at: number[] = [];
    for (let i = 0; i < 5; i++) {
      await b.take('111/us-east-1');
      at.push(timer.t);
    }
    expect(at).toEqual([0, 0, 500, 1000, 1500]);
  });

  test('concurrent takers share the bucket of their key and are served in order', async () => {
    const timer = fakeTimer();
    const b = new RateBudget(2, 2, timer);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => b.take('111/us-east-1').then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(timer.t).toBe(1000);
  });

  test('another account or region has its own bucket', async () => {
    const timer = fakeTimer();
    const b = new RateBudget(2, 2, timer);
    await b.take('111/us-east-1');
    await b.take('111/us-east-1');
    await b.take('222/us-east-1');
    await b.take('111/eu-west-1');
    expect(timer.t).toBe(0);
  });

  test('a wait past the deadline is refused, and the bucket keeps serving later takers', async () => {
    const timer = fakeTimer();
    const b = new RateBudget(2, 2, timer);
    await b.take('k');
    await b.take('k');
    await expect(b.take('k', 100)).rejects.toThrow('no slot before the deadline');
    await b.take('k');
    expect(timer.t).toBe(500);
  });
});
