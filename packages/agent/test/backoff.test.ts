import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.js';

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
    expect(backoffDelay(attempt, 500, 30_000, () => random)).toBe(expected);
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
});
