type Expectation = 'value' | 'valueOrEnd' | 'key' | 'keyOrEnd' | 'colon' | 'commaOrEnd' | 'end';

/**
 * Where a JSON text stops being valid: the index of the first offending character (the text's
 * length when it ends too early), or -1 when it is valid. One loop with an explicit stack of open
 * containers, so it never recurses; used only to describe a parse error, never to parse.
 */
export function jsonErrorPosition(text: string): number {
  const containers: string[] = [];
  // What may come next: a value, an object key (or '}' right after '{'), ':' , ',' or the container's end, or nothing.
  let expecting = 'value' as Expectation;
  let index = 0;
  const skipSpace = () => {
    while (index < text.length && ' \t\n\r'.includes(text[index])) index++;
  };
  const afterValue = () => {
    expecting = containers.length === 0 ? 'end' : 'commaOrEnd';
  };
  for (;;) {
    skipSpace();
    if (index >= text.length) return expecting === 'end' ? -1 : text.length;
    const char = text[index];
    if (expecting === 'end') return index;
    if (expecting === 'colon') {
      if (char !== ':') return index;
      index++;
      expecting = 'value';
      continue;
    }
    if (expecting === 'commaOrEnd') {
      const open = containers[containers.length - 1];
      if (char === ',') {
        index++;
        expecting = open === '{' ? 'key' : 'value';
      } else if ((open === '{' && char === '}') || (open === '[' && char === ']')) {
        index++;
        containers.pop();
        afterValue();
      } else return index;
      continue;
    }
    if ((expecting === 'keyOrEnd' && char === '}') || (expecting === 'valueOrEnd' && char === ']')) {
      index++;
      containers.pop();
      afterValue();
      continue;
    }
    if (expecting === 'key' || expecting === 'keyOrEnd') {
      if (char !== '"') return index;
      const end = stringEnd(text, index);
      if (end < 0) return -end - 1;
      index = end;
      expecting = 'colon';
      continue;
    }
    // A value.
    if (char === '{' || char === '[') {
      containers.push(char);
      index++;
      expecting = char === '{' ? 'keyOrEnd' : 'valueOrEnd';
      continue;
    }
    const end = char === '"' ? stringEnd(text, index) : literalEnd(text, index);
    if (end < 0) return -end - 1;
    index = end;
    afterValue();
  }
}

/** End index of the string starting at `start`, or -(error index + 1). */
function stringEnd(text: string, start: number): number {
  for (let index = start + 1; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) return index + 1;
    if (code < 0x20) return -(index + 1);
    if (code === 0x5c) {
      const escape = text[index + 1];
      if (escape === undefined) return -(text.length + 1);
      if (escape === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(index + 2, index + 6))) return -(index + 1);
        index += 5;
      } else if (!'"\\/bfnrt'.includes(escape)) return -(index + 1);
      else index++;
    }
  }
  return -(text.length + 1);
}

const LITERAL = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/;

/** End index of the number or literal at `start`, or -(start + 1). */
function literalEnd(text: string, start: number): number {
  const match = LITERAL.exec(text.slice(start, start + 400));
  return match ? start + match[0].length : -(start + 1);
}
