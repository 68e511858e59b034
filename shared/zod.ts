import { en } from 'zod/locales';
import { config } from 'zod/mini';

/**
 * zod for code that goes into a Lambda bundle: `zod/mini`, the functional API of the same zod 4
 * (`z.optional(s)`, `s.check(z.minLength(1))`), of which a bundle keeps only what its schemas use.
 * Import it as a namespace, `import * as z from '<path>/zod'`: esbuild drops what a namespace
 * import does not reach, while a bundle that takes zod's own `z` object carries all of it.
 *
 * `zod` installs its English messages on its own; `zod/mini` does not, and without them every
 * built-in check would say only "Invalid input". Installing them here keeps the messages that
 * config errors and receipts show ("Too small: expected string to have >=1 characters").
 */
config(en());

export * from 'zod/mini';

/**
 * A schema that is built the first time anything reads from it:
 * `export const Account = z.onFirstUse(() => z.object({...}))`, used exactly like the schema
 * itself (`Account.parse(x)`, `z.optional(Account)`, `z.infer<typeof Account>`).
 *
 * Why: building a zod schema is real work (each check and wrapper is an object set up by zod's
 * constructors, run cold in the interpreter), and every module-level schema of the domain was
 * built while a function's bundle was imported, whether or not that function ever parses with
 * it: ~340 of them at every cold start. Deferred, a function builds only the schemas it parses
 * with, when it first does; with no schema built at import either, zod's construction code is
 * not even compiled then, and an import does 20-30 M instructions (3-4%) less
 * (bench/bundles.bench.ts).
 *
 * How: the value returned is an empty object whose prototype is a trap. The first property read
 * (or `in`, or write) runs `build` and makes the built schema the object's prototype, so from
 * then on every read is an ordinary prototype lookup, with no proxy left on the path: a schema
 * nested in another (`z.object({ contact: Contact })`) parses as fast as a plain one. zod's own
 * methods (`parse`, `check`...) bind to the object they are read from, so identity holds.
 * Nothing reads the object's own keys (`Object.keys`, spread): a schema has none worth copying.
 */
export const onFirstUse = <T extends object>(build: () => T): T => {
  let built: T | undefined;
  const schema = (): T => {
    if (built === undefined) {
      built = build();
      Object.setPrototypeOf(deferred, built);
    }
    return built;
  };
  const trap = new Proxy(Object.create(null) as object, {
    get: (_target, key, receiver) => Reflect.get(schema(), key, receiver),
    has: (_target, key) => key in schema(),
    set: (_target, key, value, receiver) => Reflect.set(schema(), key, value, receiver),
  });
  const deferred = Object.create(trap) as T;
  return deferred;
};
