import { expect, it } from 'vitest';
import { KeyedSerial } from '../../src/lib/serial.js';

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

it('runs work one at a time per key, in call order, and other keys alongside', async () => {
  const serial = new KeyedSerial();
  const log: string[] = [];
  const first = gate();
  const a1 = serial.run('a', async () => {
    log.push('a1 start');
    await first.promise;
    log.push('a1 end');
  });
  const a2 = serial.run('a', () => {
    log.push('a2 start');
    return Promise.resolve(2);
  });
  const b1 = serial.run('b', () => {
    log.push('b1 start');
    return Promise.resolve('b');
  });
  await b1;
  expect(log).toEqual(['a1 start', 'b1 start']);
  first.open();
  expect(await a2).toBe(2);
  await a1;
  expect(log).toEqual(['a1 start', 'b1 start', 'a1 end', 'a2 start']);
});

it('lets a failure end only its own call', async () => {
  const serial = new KeyedSerial();
  const failed = serial.run('a', () => Promise.reject(new Error('boom')));
  const next = serial.run('a', () => Promise.resolve('after'));
  await expect(failed).rejects.toThrow('boom');
  expect(await next).toBe('after');
});
