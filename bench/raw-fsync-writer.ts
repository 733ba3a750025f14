import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { nowMs } from './stats';

/**
 * The raw durability ceiling: the same serialized events appended to a plain file with one
 * fdatasync per batch, by the most minimal writer possible (no index, no transaction, no checks).
 */
export function rawFsyncEventsPerSecond(path: string, serializedEvents: readonly string[], eventsPerSync: number): number {
  const fd = openSync(path, 'w');
  const start = nowMs();
  try {
    for (let i = 0; i < serializedEvents.length; i += eventsPerSync) {
      writeSync(fd, serializedEvents.slice(i, i + eventsPerSync).join('\n') + '\n');
      fdatasyncSync(fd);
    }
  } finally {
    closeSync(fd);
  }
  return serializedEvents.length / ((nowMs() - start) / 1000);
}
