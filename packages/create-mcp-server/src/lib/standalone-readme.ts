const NPM = 'https://www.npmjs.com/package';

const GETTING_STARTED = `## Getting started

<!-- fragment: commands for your project -->
\`\`\`sh
npm install
npm run build
npm start          # http://127.0.0.1:8000/mcp, AUTH_MODE=oauth against http://localhost:3000
npm test           # the MCP SDK client over real HTTP in every mode
\`\`\`

\`PORT\`, \`ISSUER_URL\` and the other variables below configure it; \`.env.example\` lists them all.

`;

/**
 * The template's README for a project of its own: its title is the project's name, the
 * section about copying the template out of the Portcullis repository gives way to getting
 * started, and links into the repository point at the packages on npm.
 */
export function standaloneReadme(readme: string, name = 'my-mcp-server'): string {
  const lines = readme.split('\n');
  const title = lines.findIndex((line) => line.startsWith('# '));
  if (title >= 0) lines[title] = `# ${name}`;
  let text = lines.join('\n');
  const start = /^## Start from it\s*$/m.exec(text);
  if (start) {
    const rest = text.slice(start.index + start[0].length);
    const next = /^## /m.exec(rest);
    const end = next ? start.index + start[0].length + next.index : text.length;
    text = `${text.slice(0, start.index)}${GETTING_STARTED}${text.slice(end)}`;
  } else {
    const firstSection = /^## /m.exec(text);
    const at = firstSection ? firstSection.index : text.length;
    text = `${text.slice(0, at)}${GETTING_STARTED}${text.slice(at)}`;
  }
  return text
    .replace(/\]\((?:\.\.\/)+packages\/([a-z0-9-]+)\/?\)/g, `](${NPM}/@portcullis/$1)`)
    .replace(/\]\((?:\.\.\/){2,}[^)]*\)/g, '](https://www.npmjs.com/org/portcullis)');
}

/** The README's title line, renamed for a project. */
export function renameReadme(readme: string, name: string): string {
  return readme.replace(/^# .*$/m, `# ${name}`);
}
