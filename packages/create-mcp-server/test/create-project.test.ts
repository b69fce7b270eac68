import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProject } from '../src/index.js';
import { standaloneManifest } from '../src/lib/standalone-manifest.js';
import { standaloneReadme } from '../src/lib/standalone-readme.js';

const work = mkdtempSync(path.join(tmpdir(), 'portcullis-create-unit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const TEMPLATE_README = readFileSync(
  new URL('../../../apps/mcp-server/README.md', import.meta.url),
  'utf8',
);

describe('standaloneManifest', () => {
  it('turns workspace: ranges into ^ the version of this release, and leaves the rest', () => {
    const manifest = standaloneManifest(
      {
        name: '@portcullis/mcp-server',
        private: true,
        dependencies: { '@portcullis/mcp-context': 'workspace:*', zod: '^4.6.7' },
        devDependencies: { '@portcullis/rate-limit': 'workspace:^', vitest: '4.1.12' },
        scripts: { build: 'tsc' },
      },
      { '@portcullis/mcp-context': '1.2.3', '@portcullis/rate-limit': '0.4.0' },
    );
    expect(manifest.name).toBe('my-mcp-server');
    expect(manifest.version).toBe('0.1.0');
    expect(manifest.dependencies).toEqual({ '@portcullis/mcp-context': '^1.2.3', zod: '^4.6.7' });
    expect(manifest.devDependencies).toEqual({
      '@portcullis/rate-limit': '^0.4.0',
      vitest: '4.1.12',
    });
    expect(manifest.scripts).toEqual({ build: 'tsc' });
  });

  it('refuses a workspace dependency this release does not publish', () => {
    expect(() =>
      standaloneManifest({ dependencies: { '@portcullis/e2e': 'workspace:*' } }, {}),
    ).toThrow('the template depends on @portcullis/e2e, which is not published here');
  });
});

describe('standaloneReadme', () => {
  const readme = standaloneReadme(TEMPLATE_README, 'my-server');

  it('is titled for the project and starts with npm install, not with copying the template', () => {
    expect(readme.split('\n')[0]).toBe('# my-server');
    expect(readme).toContain('## Getting started');
    expect(readme).not.toContain('## Start from it');
    expect(readme).not.toContain('workspace:*');
  });

  it('has no link into the Portcullis repository', () => {
    expect(readme).not.toMatch(/\]\(\.\.\//);
  });
});

describe('createProject', () => {
  it('writes the template with a .gitignore and the project name, and nothing installed or built', async () => {
    const { directory, name } = await createProject({ directory: path.join(work, 'My-Server') });
    expect(name).toBe('my-server');
    const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('my-server');
    expect(readFileSync(path.join(directory, 'README.md'), 'utf8').split('\n')[0]).toBe(
      '# my-server',
    );
    expect(readFileSync(path.join(directory, '.gitignore'), 'utf8')).toMatch(/^node_modules\/$/m);
    for (const absent of ['node_modules', 'dist', '.turbo', 'gitignore', 'test/template.test.ts']) {
      expect(existsSync(path.join(directory, absent)), absent).toBe(false);
    }
    expect(existsSync(path.join(directory, 'src/main.ts'))).toBe(true);
  });

  it('refuses a folder that is not empty, and leaves it alone', async () => {
    const folder = path.join(work, 'taken');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'notes.txt'), 'mine');
    await expect(createProject({ directory: folder })).rejects.toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: `${folder} is not empty: choose a new folder`,
    });
    expect(readFileSync(path.join(folder, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a name npm would refuse', async () => {
    await expect(
      createProject({ directory: path.join(work, 'ok'), name: 'Not A Name' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(createProject({ directory: 42 as unknown as string })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });
});
