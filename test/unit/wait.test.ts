import { describe, expect, it } from 'vitest';
import { deadlineStretch, waitFor } from '../../src/testing/wait.js';

describe('waitFor (the tests’ only way to wait)', () => {
  it('returns the predicate’s first truthy value', async () => {
    let calls = 0;
    expect(await waitFor('the third call', () => (++calls === 3 ? 'three' : null), 5_000, 1)).toBe('three');
    expect(calls).toBe(3);
  });

  it('fails naming what it waited for, after at least its deadline', async () => {
    await expect(waitFor('a thing that never happens', () => false, 30, 5)).rejects.toThrow(
      /^timed out after \d+ ms.* waiting for a thing that never happens$/,
    );
  });

  it('stretches deadlines by the load per core, from 1 up to 4', () => {
    expect(deadlineStretch(0.5, 2).factor).toBe(1);
    expect(deadlineStretch(2, 2).factor).toBe(1);
    expect(deadlineStretch(6, 2).factor).toBe(3);
    expect(deadlineStretch(20, 2).factor).toBe(4);
    expect(deadlineStretch(3, 0)).toEqual({ factor: 3, load: 3, cores: 1 });
  });
});
