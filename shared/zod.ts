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
