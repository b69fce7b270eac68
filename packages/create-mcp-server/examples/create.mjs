import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createProject } from '@portcullis/create-mcp-server';

const parent = mkdtempSync(path.join(tmpdir(), 'example-'));
const project = await createProject({ directory: path.join(parent, 'my-server') });
console.log(project.name, readdirSync(project.directory).sort());
rmSync(parent, { recursive: true, force: true });
