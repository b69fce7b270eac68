// Every code block of every README (root, packages, apps) runs as written, against the packed
// packages, or says why not. The conventions are in internal/release/README.md.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { type CodeBlock, codeBlocks, RUNNABLE } from '../src/readme-blocks.mjs';
import { createSandbox } from '../src/sandbox.mjs';
import { ROOT } from '../src/workspace.mjs';

const exec = promisify(execFile);
const RUN_BLOCK = fileURLToPath(new URL('../src/run-block.mjs', import.meta.url));

const HOW_TO_MARK =
  'Make it run as written, embed a tested file (<!-- file: examples/NAME.mjs -->), name the test that runs it (<!-- run-by: test/NAME.test.ts -->), or mark it <!-- fragment --> on the line right above its opening fence (see internal/release/README.md).';

/** README.md at the root and in every package and app. */
function readmes(): string[] {
  const found = ['README.md'];
  for (const group of ['packages', 'apps']) {
    for (const member of readdirSync(path.join(ROOT, group)).sort()) {
      const readme = path.join(group, member, 'README.md');
      if (existsSync(path.join(ROOT, readme))) found.push(readme);
    }
  }
  return found;
}

type Case = { readme: string; block: CodeBlock; where: string };
const cases: Case[] = readmes().flatMap((readme) =>
  codeBlocks(readFileSync(path.join(ROOT, readme), 'utf8')).map((block) => ({
    readme,
    block,
    where: `${readme}:${block.line} (\`\`\`${block.info || 'no language'})`,
  })),
);

let sandbox: string;
beforeAll(() => {
  sandbox = createSandbox(inject('tarballs'));
  mkdirSync(path.join(sandbox, 'blocks'));
});
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

/** Runs one module file in the sandbox, from a fresh working directory. */
async function runModule(where: string, file: string, source: string, lang: string) {
  const slug = where.replace(/[^a-z0-9]+/gi, '-');
  const js = ['ts', 'typescript', 'mts'].includes(lang)
    ? ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText
    : source;
  const modulePath = path.join(sandbox, 'blocks', `${slug}.mjs`);
  writeFileSync(modulePath, js);
  const cwd = path.join(sandbox, 'cwd', slug);
  mkdirSync(cwd, { recursive: true });
  const env = {
    ...process.env,
    DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    PORT: '0', // a server block listens on a free port, not on one someone else uses
    NODE_OPTIONS: '',
  };
  try {
    await exec(process.execPath, [RUN_BLOCK, modulePath], {
      cwd,
      env,
      timeout: 100_000,
    });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    const output = `${stderr ?? ''}${stdout ?? ''}`.trim().split('\n').slice(0, 12).join('\n');
    throw new Error(`${where}: ${file} fails when run as written:\n${output}\n\n${HOW_TO_MARK}`);
  }
}

describe.each(readmes().filter((readme) => cases.some((c) => c.readme === readme)))(
  '%s',
  (readme) => {
    const ofReadme = cases.filter((c) => c.readme === readme);
    it.concurrent.each(ofReadme)(
      '$where',
      async ({ block, where }) => {
        const dir = path.dirname(path.join(ROOT, readme));
        const marker = block.marker;
        if (marker?.kind === 'fragment') return;
        if (marker?.kind === 'run-by') {
          const test = path.join(dir, marker.value);
          if (!existsSync(test) || !readFileSync(test, 'utf8').includes('README.md')) {
            throw new Error(
              `${where}: <!-- run-by: ${marker.value} --> names no test that reads README.md. ${HOW_TO_MARK}`,
            );
          }
          return;
        }
        if (marker?.kind === 'file') {
          const file = path.join(dir, marker.value);
          if (!existsSync(file))
            throw new Error(`${where}: <!-- file: ${marker.value} --> does not exist`);
          const text = readFileSync(file, 'utf8');
          if (text.trimEnd() !== block.code.trimEnd()) {
            throw new Error(
              `${where}: the block differs from ${marker.value}; paste the file's text into the block verbatim`,
            );
          }
          await runModule(where, marker.value, text, path.extname(file).slice(1));
          return;
        }
        if (!RUNNABLE.has(block.lang)) {
          throw new Error(
            `${where}: a \`${block.lang || 'plain'}\` block that no test runs. ${HOW_TO_MARK}`,
          );
        }
        await runModule(where, 'the block', block.code, block.lang);
      },
      120_000,
    );
  },
);

/** The examples a README links to run against the packed packages too, from outside the repo. */
const examples = readdirSync(path.join(ROOT, 'packages'))
  .sort()
  .flatMap((member) => {
    const dir = path.join('packages', member, 'examples');
    if (!existsSync(path.join(ROOT, dir))) return [];
    return readdirSync(path.join(ROOT, dir))
      .filter((file) => /\.m?js$/.test(file))
      .map((file) => path.join(dir, file));
  });

describe('packages/*/examples, against the packed packages', () => {
  it.concurrent.each(examples)(
    '%s',
    async (example) => {
      const source = readFileSync(path.join(ROOT, example), 'utf8');
      if (/from '\.\.?\//.test(source)) {
        throw new Error(
          `${example} imports a relative path; import the package by its name so it runs as a user would run it`,
        );
      }
      await runModule(example, example, source, 'mjs');
    },
    120_000,
  );
});
