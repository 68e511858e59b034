/**
 * The two parts of libphonenumber-js the ingest uses, for `loadPhoneRules` to import lazily,
 * bound to the `min` metadata.
 *
 * Why not `import('libphonenumber-js/min')`: a dynamic import of the package gives esbuild its
 * whole namespace to keep, and the metadata comes in as an 82 KB object literal that V8 scans
 * at every cold start of the ingest function, whether or not a file is read. Even as one string
 * literal it cost every cold start about 1% of the import's instructions (callgrind), as V8 and
 * the source-map support of `--enable-source-maps` both walk every character of the bundle, for
 * data only the parse of a file needs. So a Lambda bundle carries the metadata as a file beside
 * it, named by the `ARREARS_PHONE_METADATA_FILE` define (infra/constructs/lambda-bundle.ts), and
 * it is read here when the first file is parsed; the `typeof` test is a constant there, so
 * esbuild drops the other branch and the package's copy with it. Without the define (tests, the
 * local runtime) the package's metadata is imported as usual.
 */
import { readFile } from 'node:fs/promises';
import {
  Metadata as CoreMetadata,
  type MetadataJson,
  parsePhoneNumberFromString as parseWithMetadata,
} from 'libphonenumber-js/core';
import type { parsePhoneNumberFromString as parseMin } from 'libphonenumber-js/min';

export const PHONE_METADATA_DEFINE = 'ARREARS_PHONE_METADATA_FILE';
/** The metadata file's name beside a Lambda bundle; undefined when not bundled. */
declare const ARREARS_PHONE_METADATA_FILE: string | undefined;

export interface PhoneLibraryParts {
  /** libphonenumber-js/min's `Metadata`: a class whose instances read the min metadata. */
  Metadata: new () => CoreMetadata;
  parsePhoneNumberFromString: typeof parseMin;
}

export const loadPhoneLibrary = async (): Promise<PhoneLibraryParts> => {
  const metadata: MetadataJson =
    typeof ARREARS_PHONE_METADATA_FILE === 'string'
      ? (JSON.parse(
          await readFile(new URL(ARREARS_PHONE_METADATA_FILE, import.meta.url), 'utf8'),
        ) as MetadataJson)
      : (await import('libphonenumber-js/min/metadata')).default;
  class Metadata extends CoreMetadata {
    constructor() {
      super(metadata);
    }
  }
  const parsePhoneNumberFromString = ((text: string, options?: Parameters<typeof parseMin>[1]) =>
    parseWithMetadata(text, options as never, metadata)) as typeof parseMin;
  return { Metadata, parsePhoneNumberFromString };
};
