export type { CreatedProject, CreateProjectOptions } from './create-project.js';
export { createProject } from './create-project.js';
