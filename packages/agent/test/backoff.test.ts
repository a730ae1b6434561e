import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';

describe('backoffDelay', () => {
  it.each([
    // attempt, random, expected (min 500, max 30 000)
    [1, 0, 500],
    [1, 1, 500],
    [2, 1, 1000],
    [3, 1, 2000],
    [3, 0.5, 1250],
    [7, 1, 30_000],
    [50, 1, 30_000],
    [50, 0, 500],
  ])('attempt %i with random %f waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, 500, 30_000, () => random)).toBe(expected);
  });

  it('spreads a fleet: 1000 agents on their 6th retry do not all wait the same', () => {
    const delays = new Set(Array.from({ length: 1000 }, () => backoffDelay(6, 500, 30_000)));
    expect(delays.size).toBeGreaterThan(500);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(500);
    for (const d of delays) expect(d).toBeLessThanOrEqual(16_000);
  });
});
