export * from './apps.js';
export * from './http-flow.js';
export * from './processes.js';
