// What the e2e benches share: the measured request and how a server's CPU time is read.
import { readFileSync } from 'node:fs';

/** A 2026-07-28 `tools/call` as the v2 client sends it: the envelope in `_meta` (and in headers). */
export const MODERN_TOOLS_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'public_tool',
    arguments: {},
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});

/** CPU time a process has used so far, in ms (Linux /proc; undefined elsewhere). */
export function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, 100 Hz
  } catch {
    return undefined;
  }
}
