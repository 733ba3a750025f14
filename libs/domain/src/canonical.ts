/** Canonical JSON (sorted keys, undefined dropped): equal payloads give equal strings. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // Plain (fast to serialise); a "__proto__" key is defined, not assigned, so it stays an ordinary key.
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key];
      if (field === undefined) continue;
      if (key === '__proto__') Object.defineProperty(out, key, { value: sortKeys(field), enumerable: true, writable: true, configurable: true });
      else out[key] = sortKeys(field);
    }
    return out;
  }
  return value;
}
