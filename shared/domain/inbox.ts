/**
 * The layout of the inbox bucket: `inbox/{tenant}/{kind}/{file}` in, and for each file a receipt
 * (and a quarantine file when rows were rejected) under `receipts/{tenant}/{kind}/`.
 */
export type InboxKind = 'invoices' | 'bank';

export interface InboxObject {
  tenantId: string;
  kind: InboxKind;
  fileName: string;
}

const INBOX_KEY = /^inbox\/([^/]+)\/(invoices|bank)\/(.+)$/;

/** The parts of an inbox key, or undefined when the key does not follow the layout. */
export const parseInboxKey = (key: string): InboxObject | undefined => {
  const match = INBOX_KEY.exec(key);
  if (!match) return undefined;
  const [, tenantId = '', kind, fileName = ''] = match;
  return { tenantId, kind: kind as InboxKind, fileName };
};

export const inboxKey = (object: InboxObject): string =>
  `inbox/${object.tenantId}/${object.kind}/${object.fileName}`;

/**
 * Where a file's receipt and quarantine go. The checksum is part of the name: a corrected file
 * uploaded under the same name gets its own receipt, and the first one stays as evidence.
 */
export const receiptKeys = (object: InboxObject, sha256: string) => {
  const base = `receipts/${object.tenantId}/${object.kind}/${object.fileName}.${sha256.slice(0, 12)}`;
  return { receipt: `${base}.receipt.json`, quarantine: `${base}.quarantine.csv` };
};
