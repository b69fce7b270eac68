const encoder = new TextEncoder();

/** SHA-256 of a string's UTF-8 bytes, through Web Crypto. */
export async function sha256(input: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(input)));
}
