/**
 * Slows down guessing of the admin token: more than `limit` wrong tokens from one address within
 * `windowMs` and further sign-ins from it are refused until the oldest failure leaves the window.
 * Kept in memory per process (a fleet multiplies the allowance by its API processes, which still
 * leaves a 256-bit token out of reach); addresses age out, so the map cannot grow without bound.
 */
export interface LoginLimiter {
  /** Milliseconds until `address` may try again; 0 when it may now. */
  retryAfter(address: string, now: number): number;
  fail(address: string, now: number): void;
  succeed(address: string): void;
}

const MAX_ADDRESSES = 10_000;

export function createLoginLimiter(limit = 10, windowMs = 60_000): LoginLimiter {
  const failures = new Map<string, number[]>();

  function recent(address: string, now: number): number[] {
    const times = (failures.get(address) ?? []).filter((time) => time > now - windowMs);
    if (times.length === 0) failures.delete(address);
    else failures.set(address, times);
    return times;
  }

  return {
    retryAfter(address, now) {
      const times = recent(address, now);
      if (times.length < limit) return 0;
      return (times[times.length - limit] as number) + windowMs - now;
    },
    fail(address, now) {
      const times = recent(address, now);
      times.push(now);
      failures.set(address, times);
      if (failures.size > MAX_ADDRESSES) {
        for (const key of failures.keys()) {
          recent(key, now);
          if (failures.size <= MAX_ADDRESSES / 2) break;
        }
        // Still full of live entries: drop the oldest addresses rather than grow.
        for (const key of failures.keys()) {
          if (failures.size <= MAX_ADDRESSES) break;
          failures.delete(key);
        }
      }
    },
    succeed(address) {
      failures.delete(address);
    },
  };
}
