// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, render } from '@testing-library/react';
import { useLoad } from './use-load';

afterEach(cleanup);

/** Every render's inputs and what the hook reported in it. */
type Seen = { input: string; status: string; data?: string };

function Probe({ input, answers, seen }: { input: string; answers: Map<string, (data: string) => void>; seen: Seen[] }) {
  const state = useLoad(() => new Promise<string>((resolve) => answers.set(input, resolve)), [input]);
  seen.push({ input, status: state.status, data: state.status === 'error' ? undefined : state.data });
  return null;
}

describe('useLoad', () => {
  it('a render with new inputs already reports loading, keeping the last data; never the last inputs’ data as settled', async () => {
    const answers = new Map<string, (data: string) => void>();
    const seen: Seen[] = [];
    const { rerender } = render(<Probe input="a" answers={answers} seen={seen} />);
    await act(async () => answers.get('a')!('data of a'));
    expect(seen.at(-1)).toEqual({ input: 'a', status: 'ok', data: 'data of a' });

    const before = seen.length;
    rerender(<Probe input="b" answers={answers} seen={seen} />);
    const whileB = seen.slice(before);
    expect(whileB.length).toBeGreaterThan(0);
    // The first render for "b" (before its load has even started) shows a's data as stale.
    expect(whileB[0]).toEqual({ input: 'b', status: 'loading', data: 'data of a' });
    expect(whileB.every((s) => s.status === 'loading')).toBe(true);

    await act(async () => answers.get('b')!('data of b'));
    expect(seen.at(-1)).toEqual({ input: 'b', status: 'ok', data: 'data of b' });
  });

  it('a late answer for older inputs is dropped', async () => {
    const answers = new Map<string, (data: string) => void>();
    const seen: Seen[] = [];
    const { rerender } = render(<Probe input="a" answers={answers} seen={seen} />);
    rerender(<Probe input="b" answers={answers} seen={seen} />);
    await act(async () => answers.get('b')!('data of b'));
    await act(async () => answers.get('a')!('data of a'));
    expect(seen.at(-1)).toEqual({ input: 'b', status: 'ok', data: 'data of b' });
  });
});
