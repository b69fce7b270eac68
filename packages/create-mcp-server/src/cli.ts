#!/usr/bin/env node
// npm create @portcullis/mcp-server [folder]
import path from 'node:path';
import { createProject } from './create-project.js';

const USAGE = `Usage: npm create @portcullis/mcp-server [folder]

Writes a new MCP server project (Streamable HTTP at /mcp, OAuth 2.1 via @portcullis/mcp-context)
into folder (my-mcp-server by default), which must be new or empty.`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
} else {
  const unknown = args.find((arg) => arg.startsWith('-'));
  const folders = args.filter((arg) => !arg.startsWith('-'));
  if (unknown || folders.length > 1) {
    console.error(`create-mcp-server: unexpected ${unknown ?? folders[1]}\n\n${USAGE}`);
    process.exitCode = 1;
  } else {
    try {
      const project = await createProject({ directory: folders[0] ?? 'my-mcp-server' });
      const relative = path.relative(process.cwd(), project.directory) || '.';
      console.log(`Created ${project.name} in ${project.directory}

Next:
  cd ${relative}
  npm install
  npm run build
  npm test
  npm start        # http://127.0.0.1:8000/mcp; README.md explains every setting`);
    } catch (error) {
      console.error(`create-mcp-server: ${(error as Error).message}`);
      process.exitCode = 1;
    }
  }
}
