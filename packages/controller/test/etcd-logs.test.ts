import { describe, expect, it } from 'vitest';
import { entryKey, joinState, planList, splitState } from '../src/state/etcd-logs.js';
import type { ControllerState } from '../src/state/schema.js';

const texts = (...ids: number[]) => ids.map(String);

describe('the state as etcd keys', () => {
  it('appends new entries after next and keeps the rest', () => {
    const plan = planList({ first: 0, next: 3, texts: texts(1, 2, 3) }, texts(1, 2, 3, 4));
    expect(plan).toMatchObject({ first: 0, next: 4, puts: [[3, '4']], drop: undefined });
  });

  it('deletes entries dropped from the front (a list at its limit)', () => {
    const plan = planList({ first: 10, next: 13, texts: texts(1, 2, 3) }, texts(2, 3, 4));
    expect(plan).toMatchObject({ first: 11, next: 14, puts: [[13, '4']], drop: [10, 11] });
  });

  it('rewrites a list changed in place after next, deleting the old entries', () => {
    const plan = planList({ first: 5, next: 7, texts: texts(1, 2) }, texts(1, 9));
    expect(plan).toMatchObject({ first: 7, next: 9, puts: [[7, '1'], [8, '9']], drop: [5, 7] });
  });

  it('starts a list never stored at 0, and leaves an unchanged one alone', () => {
    expect(planList(undefined, texts(1))).toMatchObject({ first: 0, next: 1, puts: [[0, '1']], drop: undefined });
    const unchanged = planList({ first: 2, next: 4, texts: texts(1, 2) }, texts(1, 2));
    expect(unchanged).toMatchObject({ first: 2, next: 4, puts: [] });
    expect(planList({ first: 2, next: 4, texts: texts(1, 2) }, [])).toMatchObject({ first: 4, next: 4, drop: [2, 4] });
  });

  it('sorts keys like indices', () => {
    expect(entryKey('/p/', 'history', 42)).toBe('/p/log/history/000000000042');
  });

  it('splits every list out of the state and joins them back', () => {
    const state = {
      format: 2,
      version: 3,
      issued_at: '2024-01-01T00:00:00.000Z',
      clusters: {},
      history: [{ version: 1 }],
      failovers: [{ id: 'f' }],
      failovers_filed: {},
      failover: { db: { fenced: [], switchovers: [{ id: 's' }] } },
    } as unknown as ControllerState;
    const { core, lists } = splitState(state);
    expect(core).toMatchObject({ history: [], failovers: [], failover: { db: { switchovers: [] } } });
    expect(Object.keys(lists)).toEqual(['history', 'failovers', 'switchovers/db']);
    expect(joinState(core as unknown as Record<string, unknown>, lists as Record<string, unknown[]>)).toEqual(state);
  });
});
