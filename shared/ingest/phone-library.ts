/**
 * The two parts of libphonenumber-js the ingest uses, for `loadPhoneRules` to import lazily,
 * bound to the `min` metadata.
 *
 * Why not `import('libphonenumber-js/min')`: a dynamic import of the package gives esbuild its
 * whole namespace to keep, and the metadata comes in as an 82 KB object literal that V8 scans
 * at every cold start of the ingest function, whether or not a file is read. A Lambda bundle
 * defines `ARREARS_PHONE_METADATA_JSON` (infra/constructs/lambda-bundle.ts) as the same
 * metadata in one string literal, parsed here when the first file is read; the `typeof` test is
 * a constant there, so esbuild drops the other branch and the package's copy with it. Without
 * the define (tests, the local runtime) the package's metadata is imported as usual.
 */
import {
  Metadata as CoreMetadata,
  type MetadataJson,
  parsePhoneNumberFromString as parseWithMetadata,
} from 'libphonenumber-js/core';
import type { parsePhoneNumberFromString as parseMin } from 'libphonenumber-js/min';

export const PHONE_METADATA_DEFINE = 'ARREARS_PHONE_METADATA_JSON';
declare const ARREARS_PHONE_METADATA_JSON: string | undefined;

export interface PhoneLibraryParts {
  /** libphonenumber-js/min's `Metadata`: a class whose instances read the min metadata. */
  Metadata: new () => CoreMetadata;
  parsePhoneNumberFromString: typeof parseMin;
}

export const loadPhoneLibrary = async (): Promise<PhoneLibraryParts> => {
  const metadata: MetadataJson =
    typeof ARREARS_PHONE_METADATA_JSON === 'string'
      ? (JSON.parse(ARREARS_PHONE_METADATA_JSON) as MetadataJson)
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
