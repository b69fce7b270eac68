import { cpSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodedTypeError, describe } from './lib/errors.js';
import { renameReadme } from './lib/standalone-readme.js';

/** The template as this package ships it (written at build and pack time from apps/mcp-server). */
const TEMPLATE = fileURLToPath(new URL('../template/', import.meta.url));

/** npm's rule for a package name (lowercase, URL-safe, at most 214 characters). */
const NPM_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

export interface CreateProjectOptions {
  /** Where to write the project: a new or empty folder. */
  directory: string;
  /** The package name; the folder's name by default. */
  name?: string;
}

export interface CreatedProject {
  /** The absolute path of the project. */
  directory: string;
  name: string;
}

/**
 * Writes a new MCP server project from the Portcullis template into an empty folder: the
 * sources, tests and README of the template, a `.gitignore`, and a package.json that depends on
 * the published `@portcullis/*` packages of this release. Nothing is installed or built.
 *
 * @example
 * const { directory } = await createProject({ directory: 'my-server' });
 * // cd my-server && npm install && npm run build && npm test
 */
export async function createProject(options: CreateProjectOptions): Promise<CreatedProject> {
  if (typeof options?.directory !== 'string' || options.directory === '') {
    throw new CodedTypeError(
      `"directory" must be a non-empty string, received ${describe(options?.directory)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  const directory = path.resolve(options.directory);
  const name = options.name ?? path.basename(directory).toLowerCase();
  if (name.length > 214 || !NPM_NAME.test(name)) {
    throw new CodedTypeError(
      `"${name}" is not a valid npm package name: use lowercase letters, digits, "-", "." or "_"`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (existsSync(directory) && readdirSync(directory).length > 0) {
    throw new CodedTypeError(
      `${directory} is not empty: choose a new folder`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
  if (!existsSync(path.join(TEMPLATE, 'package.json'))) {
    throw new Error(`the template is missing from ${TEMPLATE}: build this package first`);
  }

  cpSync(TEMPLATE, directory, { recursive: true });
  // npm leaves .gitignore files out of tarballs, so the template carries it without the dot.
  renameSync(path.join(directory, 'gitignore'), path.join(directory, '.gitignore'));
  const manifestPath = path.join(directory, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, name }, null, 2)}\n`);
  const readmePath = path.join(directory, 'README.md');
  writeFileSync(readmePath, renameReadme(readFileSync(readmePath, 'utf8'), name));
  return { directory, name };
}
