const encoder = new TextEncoder();

/** SHA-256 of the ASCII form of `value`, through Web Crypto so it runs on Node, edge and browsers. */
export async function sha256(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)));
}
