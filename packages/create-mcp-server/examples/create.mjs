import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createProject } from '@portcullis/create-mcp-server';

const folder = path.join(mkdtempSync(path.join(tmpdir(), 'example-')), 'my-server');
const project = await createProject({ directory: folder });
console.log(project.name, readdirSync(project.directory).sort());
