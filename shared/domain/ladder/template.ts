import type { Account, Invoice } from '../account/account';
import { displayAmount } from '../money';
import type { NoticeTemplate } from './policy';

/** The placeholders a notice template may use. Anything else is a config error, caught at load. */
export const TEMPLATE_VARIABLES = [
  'debtorName',
  'creditorName',
  'accountId',
  'amountDue',
  'oldestDueDate',
  'daysPastDue',
  'invoiceList',
  'optOutUrl',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Record<TemplateVariable, string>;

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Placeholders a template uses that are not known variables (empty when the template is fine). */
export const unknownPlaceholders = (text: string): string[] =>
  [...text.matchAll(PLACEHOLDER)]
    .map((match) => match[1] ?? '')
    .filter((name) => !(TEMPLATE_VARIABLES as readonly string[]).includes(name));

const fill = (text: string, values: TemplateValues): string =>
  text.replace(PLACEHOLDER, (_whole, name: string) => values[name as TemplateVariable] ?? '');

/**
 * Renders a notice. The opt-out footer is appended by code, not left to each template, so no
 * notice can go out without it.
 */
export const renderNotice = (
  template: NoticeTemplate,
  values: TemplateValues,
): { subject: string; text: string } => ({
  subject: fill(template.subject, values).replace(/[\r\n]+/g, ' '),
  text: `${fill(template.text, values).trimEnd()}\n\n--\nTo stop receiving these e-mails: ${values.optOutUrl}\n`,
});

/** The values of an account's notice: amounts per currency, open invoices oldest first. */
export const noticeValues = (input: {
  account: Account;
  invoices: readonly Invoice[];
  creditorName: string;
  daysPastDue: number;
  optOutUrl: string;
}): TemplateValues => {
  const open = input.invoices
    .filter((invoice) => invoice.status === 'open' && invoice.kind === 'invoice' && invoice.openAmount > 0)
    .sort((a, b) => (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0));
  const amountDue = Object.entries(input.account.balances)
    .filter(([, amount]) => amount > 0)
    .map(([currency, amount]) => displayAmount(amount, currency))
    .join(' and ');
  return {
    debtorName: input.account.contact.name,
    creditorName: input.creditorName,
    accountId: input.account.accountId,
    amountDue,
    oldestDueDate: input.account.oldestDueDate ?? '',
    daysPastDue: String(input.daysPastDue),
    invoiceList: open
      .map(
        (invoice) =>
          `- ${invoice.invoiceId}, due ${invoice.dueDate}: ${displayAmount(invoice.openAmount, invoice.currency)}`,
      )
      .join('\n'),
    optOutUrl: input.optOutUrl,
  };
};
