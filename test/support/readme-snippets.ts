/**
 * The ```ts blocks of README.md as files of a user's app: a block whose first line is a comment
 * naming a path (`// lib/billing-stack.ts`) becomes that file; any other block becomes
 * `snippets/snippet-<n>.ts`, one directory below the app root like `lib/` and `lambda/`, so its
 * relative imports (`../messages/orders`) resolve the same way.
 */
import { readFileSync } from 'node:fs';

export interface ReadmeSnippet {
  /** Path inside the app, e.g. `lib/billing-stack.ts`. */
  readonly path: string;
  /** 1-based line of the README where the block's code starts. */
  readonly line: number;
  readonly code: string;
}

const FENCE = /^```ts\s*$/;
const NAMED_FILE = /^\/\/ ([\w./-]+\.ts)\s*$/;

export function readmeSnippets(readmePath: string): ReadmeSnippet[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const snippets: ReadmeSnippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE.test(lines[i]!)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    if (end === lines.length) throw new Error(`README.md:${i + 1}: unterminated \`\`\`ts block`);
    const body = lines.slice(start, end);
    const named = NAMED_FILE.exec(body[0] ?? '');
    snippets.push({
      path: named ? named[1]! : `snippets/snippet-${start + 1}.ts`,
      line: start + 1,
      code: `${body.join('\n')}\n`,
    });
    i = end;
  }
  const seen = new Set<string>();
  for (const s of snippets) {
    if (seen.has(s.path)) throw new Error(`README.md:${s.line}: a second block names ${s.path}`);
    seen.add(s.path);
  }
  return snippets;
}
