/** A tool result with one JSON text block, the shape the guide's tools return. */
export function json(value: unknown) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }] };
}
