import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimitRule } from '../../src/http/rate-limit.ts';

/**
 * Waits, when the current window of `rule` ends within `neededSeconds`, until the next window starts. The counters
 * use fixed windows aligned to the clock, so a test that counts requests up to the limit must not straddle two
 * windows, where the count starts again. The wait is at most `neededSeconds`.
 */
export async function awaitFreshWindow(rule: RateLimitRule, neededSeconds = 15): Promise<void> {
  const windowMs = rule.windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < neededSeconds * 1000) await sleep(left + 250);
}
