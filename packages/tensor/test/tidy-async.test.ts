// tidyAsync: the tidy rules across awaits (returned and kept tensors survive, the rest
// is disposed, errors dispose everything), nesting with itself and with sync tidy, and
// the flows it refuses because their tensors would mix (see src/scopes.ts).

import { add, keep, liveTensorsSince, memory, memoryMark, ones, tidy, tidyAsync, type Tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';

const tick = (ms = 0) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function liveCount(): number {
  return memory().tensors;
}

describe('tidyAsync', () => {
  it('disposes what the function created across awaits, except what it returns (also inside objects)', async () => {
    const before = liveCount();
    const { a, list } = await tidyAsync(async () => {
      const x = ones([3]);
      await tick();
      const y = add(x, 1);
      await tick();
      return { a: add(y, 1), list: [add(y, 2)] };
    });
    expect(liveCount()).toBe(before + 2);
    expect(a.toArray()).toEqual([3, 3, 3]);
    expect(list[0]!.toArray()).toEqual([4, 4, 4]);
    a.dispose();
    list[0]!.dispose();
    expect(liveCount()).toBe(before);
  });

  it('keeps tensors passed to keep()', async () => {
    const before = liveCount();
    let kept: Tensor | null = null;
    await tidyAsync(async () => {
      await tick();
      kept = keep(ones([2]));
      ones([2]);
    });
    expect(liveCount()).toBe(before + 1);
    expect(kept!.isDisposed).toBe(false);
    kept!.dispose();
  });

  it('nests: the inner result moves to the outer scope, which disposes it unless it returns it too', async () => {
    const before = liveCount();
    let inner: Tensor | null = null;
    const outer = await tidyAsync(async () => {
      inner = await tidyAsync(async () => {
        await tick();
        ones([1]);
        return ones([2]);
      });
      expect(inner.isDisposed).toBe(false);
      await tick();
      return tidyAsync(async () => add(inner!, 1));
    });
    expect(inner!.isDisposed).toBe(true);
    expect(outer.toArray()).toEqual([2, 2]);
    outer.dispose();
    expect(liveCount()).toBe(before);
  });

  it('an error inside disposes everything it created and rejects with that error', async () => {
    const before = liveCount();
    await expect(
      tidyAsync(async () => {
        ones([3]);
        await tick();
        ones([3]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(liveCount()).toBe(before);
  });

  it('runs sync tidy inside: what tidy returns belongs to the async scope', async () => {
    const before = liveCount();
    let fromTidy: Tensor | null = null;
    const result = await tidyAsync(async () => {
      await tick();
      fromTidy = tidy(() => add(ones([2]), 1));
      await tick();
      return tidy(() => add(fromTidy!, 1));
    });
    expect(fromTidy!.isDisposed).toBe(true);
    expect(result.toArray()).toEqual([3, 3]);
    result.dispose();
    expect(liveCount()).toBe(before);
  });

  it('is refused inside a synchronous tidy, whose scope would end first', async () => {
    let pending: Promise<unknown> | null = null;
    tidy(() => {
      pending = tidyAsync(async () => ones([1]));
    });
    await expect(pending).rejects.toThrow(/tidyAsync: called inside a synchronous tidy\(\)/);
  });

  it('leaves tensors the caller creates while it waits, in the same run, to the caller', async () => {
    const pending = tidyAsync(async () => {
      await tick();
      return ones([1]);
    });
    const mine = ones([2]); // created by the caller, not by the async function
    const result = await pending;
    expect(mine.isDisposed).toBe(false);
    mine.dispose();
    result.dispose();
  });
});

describe('tidyAsync refuses flows it would mix', () => {
  it('refuses a second tidyAsync started in the same run while the first waits (Promise.all)', async () => {
    const before = liveCount();
    const results = await Promise.allSettled([
      tidyAsync(async () => {
        await tick();
        return add(ones([1]), 1);
      }),
      tidyAsync(async () => ones([1])),
    ]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]!.status).toBe('rejected');
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(
      /tidyAsync: another tidyAsync \(scope #\d+\) started in this same synchronous run is waiting on an await/,
    );
    (results[0] as PromiseFulfilledResult<Tensor>).value.dispose();
    expect(liveCount()).toBe(before);
  });

  it('throws when scopes end out of order, and disposes nothing of either flow', async () => {
    const mark = memoryMark();
    const made: Tensor[] = [];
    const make = (size: number) => {
      const t = ones([size]);
      made.push(t);
      return t;
    };
    // Flow A waits briefly; flow B starts in a later run (so it looks nested) and ends after A.
    const a = tidyAsync(async () => {
      make(1);
      await tick(5);
      return make(1);
    });
    await tick();
    const b = tidyAsync(async () => {
      make(2);
      await tick(30);
      return make(2);
    });
    const [resultA, resultB] = await Promise.allSettled([a, b]);
    expect(String((resultA as PromiseRejectedResult).reason)).toMatch(
      /tidyAsync: async scopes overlapped: scope #\d+ ended while scope #\d+, opened after it, is still open/,
    );
    expect(String((resultB as PromiseRejectedResult).reason)).toMatch(/tidyAsync: scope #\d+ overlapped with another async flow's scope/);
    // A leak, not a wrong disposal: every tensor of both flows is still alive.
    expect(liveTensorsSince(mark).map((t) => t.shape[0])).toEqual([1, 2, 1, 2]);
    for (const t of made) t.dispose();
    // The stack is clean again: a new scope works.
    const fresh = await tidyAsync(async () => ones([3]));
    expect(liveTensorsSince(mark).map((t) => t.id)).toEqual([fresh.id]);
    fresh.dispose();
  });
});
