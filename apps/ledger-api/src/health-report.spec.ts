import { SharedReport } from './health.controller';

describe('SharedReport (one /health check for the requests of a window)', () => {
  let nowMs = 1_000;
  const report = () => new SharedReport<string>(20, () => nowMs);

  it('answers the requests within the window from one check, and checks again after it', async () => {
    const shared = report();
    let checks = 0;
    const check = async () => `report ${++checks}`;
    expect(await shared.get(check)).toBe('report 1');
    nowMs += 19;
    expect(await shared.get(check)).toBe('report 1');
    nowMs += 1; // 20 ms after the check started: a new one
    expect(await shared.get(check)).toBe('report 2');
    expect(checks).toBe(2);
  });

  it('shares a check under way with the requests that arrive meanwhile', async () => {
    const shared = report();
    let finish: (value: string) => void = () => undefined;
    let checks = 0;
    const check = () => (checks++, new Promise<string>((resolve) => (finish = resolve)));
    const first = shared.get(check);
    nowMs += 5;
    const second = shared.get(check);
    finish('up');
    expect(await Promise.all([first, second])).toEqual(['up', 'up']);
    expect(checks).toBe(1);
  });

  it('shares a failed check (503) the same way, and a later window checks again', async () => {
    const shared = report();
    let down = true;
    const check = async () => {
      if (down) throw new Error('event store down');
      return 'up';
    };
    await expect(shared.get(check)).rejects.toThrow('event store down');
    down = false;
    await expect(shared.get(check)).rejects.toThrow('event store down');
    nowMs += 20;
    await expect(shared.get(check)).resolves.toBe('up');
  });
});
