// The fenced code blocks of a Markdown file and the marker on the line above each one.
//
// Conventions (internal/release/README.md):
//   no marker, ```js / ```ts …  run as written by internal/release/test/readme-blocks.test.ts
//   <!-- file: examples/x.mjs -->  the block is that file, verbatim; the test runs the file
//   <!-- run-by: test/x.test.ts --> another test reads this README and runs the block
//   <!-- fragment -->              shown, not run (a piece of a larger program, output, a diagram)

/** Languages the README test runs with Node (TypeScript is transpiled first). */
export const RUNNABLE = new Set(['js', 'javascript', 'mjs', 'ts', 'typescript', 'mts']);

const MARKER = /^<!--\s*(fragment|file|run-by)\s*(?::\s*(.*?))?\s*-->$/;

/**
 * @typedef {{ kind: 'fragment' | 'file' | 'run-by', value: string }} Marker
 * @typedef {{ line: number, lang: string, info: string, code: string, marker: Marker | undefined }} CodeBlock
 */

/**
 * @param {string} markdown
 * @returns {CodeBlock[]}
 */
export function codeBlocks(markdown) {
  const lines = markdown.split('\n');
  /** @type {CodeBlock[]} */
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(`{3,}|~{3,})(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const close = /^ *(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1]?.[0] === fence[0] && (close[1]?.length ?? 0) >= fence.length) break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    const previous = (lines[i - 1] ?? '').trim();
    const marked = MARKER.exec(previous);
    blocks.push({
      line: i + 1,
      lang: info.trim().split(/\s+/)[0]?.toLowerCase() ?? '',
      info: info.trim(),
      code: body.join('\n'),
      marker: marked
        ? { kind: /** @type {Marker['kind']} */ (marked[1]), value: marked[2] ?? '' }
        : undefined,
    });
    i = j;
  }
  return blocks;
}
