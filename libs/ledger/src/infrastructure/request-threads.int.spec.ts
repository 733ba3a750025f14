import { join } from 'node:path';
import { RequestThreads } from './request-threads';

const ECHO = join(__dirname, 'request-threads-echo.thread');

describe('RequestThreads (real worker threads)', () => {
  it('answers by id, and closes every thread', async () => {
    const threads = new RequestThreads<{ stop?: boolean }, { id: number; echoed: boolean }>(ECHO, {}, 2);
    const replies = await Promise.all([threads.request({}), threads.request({}), threads.request({}, 1)]);
    expect(replies.map((reply) => reply?.echoed)).toEqual([true, true, true]);
    await threads.close();
    expect(threads.broken).toBe(true);
    expect(await threads.request({})).toBeUndefined();
  });

  it('a thread that stops by itself settles its waiting request with nothing, marks the pool broken, and close() does not wait for it', async () => {
    const threads = new RequestThreads<{ stop?: boolean }, { id: number; echoed: boolean }>(ECHO, {}, 2);
    expect((await threads.request({}, 0))?.echoed).toBe(true);
    expect(await threads.request({ stop: true }, 0)).toBeUndefined();
    expect(threads.broken).toBe(true);
    // Before, close() waited for the stopped thread's 'exit' again, for ever (this test would time out).
    await threads.close();
  });
});
