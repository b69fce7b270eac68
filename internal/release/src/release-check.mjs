// Refuses a release that npm or its users would regret: run by `pnpm release` before it
// publishes. Exits 1 with one line per problem.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { publishedPackages, publishingFields, ROOT, rootRepositoryUrl } from './workspace.mjs';

const problems = [];
const url = rootRepositoryUrl();
if (!url) {
  problems.push(
    'set "repository.url" in the root package.json (https://github.com/OWNER/REPO): npm --provenance refuses a package without it, and every package takes its repository, homepage and bugs from there',
  );
}
const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
for (const pkg of publishedPackages()) {
  const { manifest } = pkg;
  if (manifest.license !== 'MIT') problems.push(`${pkg.name}: "license" must be "MIT"`);
  if (manifest.engines?.node !== '>=20.19')
    problems.push(`${pkg.name}: engines.node must be ">=20.19"`);
  const own = path.join(pkg.dir, 'LICENSE');
  if (!existsSync(own) || readFileSync(own, 'utf8') !== license) {
    problems.push(`${pkg.name}: ${pkg.directory}/LICENSE must be a copy of the root LICENSE`);
  }
  if (url) {
    const expected = publishingFields(url, pkg.directory);
    for (const [field, value] of Object.entries(expected)) {
      if (JSON.stringify(manifest[field]) !== JSON.stringify(value)) {
        problems.push(
          `${pkg.name}: "${field}" differs from the root repository.url: run pnpm --filter @portcullis/internal-release stamp`,
        );
      }
    }
  }
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`release: ${problem}`);
  process.exit(1);
}
console.log(`release: ${publishedPackages().length} packages ready to publish from ${url}`);
