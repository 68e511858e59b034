/**
 * The two parts of libphonenumber-js the ingest uses, for `loadPhoneRules` to import lazily.
 * Importing the package itself dynamically gives esbuild its whole namespace to keep (every
 * export, ~70 KB more that V8 parses at each cold start); named re-exports let it drop the rest.
 */
export { Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/min';
