import { describe, expect, it } from 'vitest';
import { backoffDelay, retryAfterDelay, spreadDelay } from '../src/backoff.js';

describe('backoffDelay', () => {
  it.each([
    // attempt, random, expected (min 500, max 30 000): random × min(max, min·2^(attempt−1))
    [1, 0, 0],
    [1, 1, 500],
    [1, 0.5, 250],
    [2, 1, 1000],
    [3, 1, 2000],
    [3, 0.5, 1000],
    [7, 1, 30_000],
    [50, 1, 30_000],
    [50, 0, 0],
  ])('attempt %i with random %f waits %i ms', (attempt, random, expected) => {
    expect(backoffDelay(attempt, 500, 30_000, { random: () => random })).toBe(expected);
  });

  // A fleet that lost its controller at once: each retry's waits fill 0 … the capped step.
  it.each([
    [1, 500],
    [2, 1000],
    [6, 16_000],
    [12, 30_000],
  ])('on retry %i, 2000 agents wait between 0 and %i ms, spread over the whole range', (attempt, step) => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(attempt, 500, 30_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(step);
    // Full jitter, not a floor at `min`: a quarter of them below a quarter of the step, give or take.
    const low = delays.filter((d) => d < step / 4).length / delays.length;
    const high = delays.filter((d) => d > (3 * step) / 4).length / delays.length;
    expect(low).toBeGreaterThan(0.2);
    expect(high).toBeGreaterThan(0.2);
    const mean = delays.reduce((sum, d) => sum + d, 0) / delays.length;
    expect(mean / step).toBeGreaterThan(0.45);
    expect(mean / step).toBeLessThan(0.55);
  });

  // A controller restarting refuses connections at once: without the cap, agents that failed six
  // times in its first two seconds would wait up to 16 s for it.
  it.each([
    // attempt, outage so far, longest wait
    [6, 2000, 2000],
    [6, 100, 500],
    [3, 60_000, 2000],
    [12, 60_000, 30_000],
  ])('on retry %i after an outage of %i ms, waits at most %i ms', (attempt, outageMs, longest) => {
    expect(backoffDelay(attempt, 500, 30_000, { outageMs, random: () => 1 })).toBe(longest);
    expect(backoffDelay(attempt, 500, 30_000, { outageMs, random: () => 0 })).toBe(0);
  });
});

describe('retryAfterDelay and spreadDelay', () => {
  it('comes back between 1 and 2 times the Retry-After', () => {
    expect(retryAfterDelay(2000, () => 0)).toBe(2000);
    expect(retryAfterDelay(2000, () => 0.999)).toBe(3998);
    const delays = Array.from({ length: 2000 }, () => retryAfterDelay(2000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(2000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
    expect(new Set(delays.map((d) => Math.floor(d / 250))).size).toBeGreaterThanOrEqual(8);
  });

  it('spreads a fleet\'s first requests over the backoff floor', () => {
    expect(spreadDelay(500, () => 0)).toBe(0);
    expect(spreadDelay(500, () => 1)).toBe(500);
    const delays = Array.from({ length: 2000 }, () => spreadDelay(500));
    expect(new Set(delays.map((d) => Math.floor(d / 100))).size).toBeGreaterThanOrEqual(5);
  });
});
