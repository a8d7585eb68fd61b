/** What a suite's `beforeAll` made, or an error that points at the `beforeAll`'s own failure. */
export function made<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} was not made (see the beforeAll error)`);
  return value;
}
