/** Outgoing e-mail (SES v2 on AWS and locally). */
export interface OutgoingEmail {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  text: string;
  /** Headers such as List-Unsubscribe: every notice carries a simple opt-out. */
  headers?: Record<string, string>;
  tags?: Record<string, string>;
}

export interface Mailer {
  /** Sends and returns the provider's message id. */
  send(email: OutgoingEmail): Promise<string>;
}
