// Writes `repository`, `homepage` and `bugs` into every published package from the root
// manifest's `repository.url`. The release script runs it before `changeset publish`; run it
// yourself after changing the root URL (`pnpm --filter @portcullis/internal-release stamp`).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { publishedPackages, publishingFields, rootRepositoryUrl } from './workspace.mjs';

const url = rootRepositoryUrl();
if (!url) {
  console.error('release: set "repository.url" in the root package.json first');
  process.exit(1);
}
for (const pkg of publishedPackages()) {
  const fields = publishingFields(url, pkg.directory);
  const manifest = { ...pkg.manifest, ...fields };
  writeFileSync(path.join(pkg.dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`${pkg.name}: ${fields.repository.url} (${pkg.directory})`);
}
