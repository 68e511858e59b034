/**
 * The queue that feeds ingest-invoices. An invocation that runs short of time on a large file
 * leaves a checkpoint and enqueues the file's event again: the next invocation resumes where the
 * checkpoint says. Delivery is at least once; a second delivery of the same event is harmless,
 * since every row already applied is found unchanged.
 */
export interface InvoiceQueue {
  /** Enqueues an "Object Created" event for the inbox object again; returns the queue's message id. */
  requeue(object: { bucket: string; key: string; size?: number }): Promise<string>;
}
