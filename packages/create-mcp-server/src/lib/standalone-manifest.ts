/** The fields of the template's package.json this package reads or rewrites. */
export interface Manifest {
  name?: string;
  version?: string;
  description?: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [field: string]: unknown;
}

/**
 * The template's manifest as a project of its own: every `workspace:` range becomes `^` the
 * version of that package in this release (what npm will find once it is published), and the
 * project gets a placeholder name and version of its own.
 */
export function standaloneManifest(template: Manifest, versions: Record<string, string>): Manifest {
  const resolve = (deps: Record<string, string> | undefined) => {
    if (!deps) return undefined;
    const out: Record<string, string> = {};
    for (const [name, range] of Object.entries(deps)) {
      if (!range.startsWith('workspace:')) {
        out[name] = range;
        continue;
      }
      const version = versions[name];
      if (!version) throw new Error(`the template depends on ${name}, which is not published here`);
      out[name] = `^${version}`;
    }
    return out;
  };
  const { dependencies, devDependencies, ...rest } = template;
  const manifest: Manifest = {
    ...rest,
    name: 'my-mcp-server',
    version: '0.1.0',
    private: true,
    description: 'An MCP server with OAuth 2.1, made with npm create @portcullis/mcp-server.',
  };
  const deps = resolve(dependencies);
  const devDeps = resolve(devDependencies);
  if (deps) manifest.dependencies = deps;
  if (devDeps) manifest.devDependencies = devDeps;
  return manifest;
}
