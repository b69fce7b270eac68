/**
 * One request header as a string: repeated headers joined as HTTP lists are. Takes the value
 * read by its caller (`headers.origin`), not the name: a load with a fixed name at each call
 * site stays monomorphic, where `headers[name]` in one shared function became a megamorphic
 * lookup (~190 instructions a header, every request).
 */
export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
