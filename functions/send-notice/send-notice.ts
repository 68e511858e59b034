import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { updateAccount } from '../../shared/app/update-account';
import { noticeValues, renderNotice } from '../../shared/domain/ladder';
import type { NoticeRecord } from '../../shared/domain/notice';
import { dateIn, daysBetween } from '../../shared/domain/time/calendar';
import type { Deps } from '../../shared/runtime/deps';
import { decisionFor } from '../ladder-evaluate/ladder-evaluate';
import { type NoticeResult, NoticeTask } from './schema';

export type SendNoticeDeps = Pick<Deps, 'clock' | 'logger' | 'tenants' | 'store' | 'mailer'>;

/**
 * A notice intent exists without a message id: the send may or may not have happened (a crash
 * between SES and the record). Sending again could contact the debtor twice, so a person
 * reconciles it with SES's sending records; the ladder fails loudly instead of guessing.
 */
export class NoticeInDoubtError extends Error {
  override readonly name = 'NoticeInDoubtError';
}

const ACTOR = { kind: 'system', id: 'send-notice' } as const;

/**
 * Sends the notice of one rung (the SendNotice state), at most once.
 *
 * 1. Re-check: decide again from the account as it is now; if it no longer says "send this
 *    rung" (paid, disputed, opted out, outside the contact window since), send nothing.
 * 2. A record for this cycle and rung means it was sent (return it) or is in doubt (fail).
 * 3. Record the intent conditionally, send through SES, then commit the sent notice, the
 *    account's contact history and the audit entry in one transaction.
 */
export const sendNotice = async (deps: SendNoticeDeps, task: NoticeTask): Promise<NoticeResult> => {
  const tenant = deps.tenants.get(task.tenantId);
  const existing = await deps.store.getNotice(task.tenantId, task.accountId, task.cycleId, task.rung);
  if (existing?.status === 'sent') {
    return {
      sent: true,
      alreadySent: true,
      messageId: existing.messageId,
      reason: 'this notice was already sent',
    };
  }
  if (existing) {
    throw new NoticeInDoubtError(
      `notice ${task.cycleId}/${task.rung} of ${task.tenantId}/${task.accountId} was started at ${existing.createdAt} but never confirmed`,
    );
  }

  const now = deps.clock.now();
  const account = await deps.store.getAccount(task.tenantId, task.accountId);
  if (!account) return { sent: false, alreadySent: false, reason: 'the account no longer exists' };
  const decision = decisionFor(tenant, account, task.cycleId, now);
  if (decision.action !== 'send' || decision.rung !== task.rung) {
    return { sent: false, alreadySent: false, reason: `re-checked before sending: ${decision.reason}` };
  }
  const rung = tenant.ladder.rungs[task.rung];
  const template = rung?.template ? tenant.templates[rung.template] : undefined;
  const email = account.contact.email;
  if (!rung || !template || !email)
    throw new Error(`rung ${task.rung} of ${tenant.ladder.policyId} cannot send`);

  const invoices = await deps.store.getInvoices(task.tenantId, task.accountId);
  const daysPastDue = daysBetween(
    account.oldestDueDate ?? dateIn(now, tenant.timeZone),
    dateIn(now, tenant.timeZone),
  );
  const content = renderNotice(
    template,
    noticeValues({
      account,
      invoices,
      creditorName: tenant.name,
      daysPastDue,
      optOutUrl: tenant.sender.optOutUrl,
    }),
  );
  const intent: NoticeRecord = {
    tenantId: task.tenantId,
    accountId: task.accountId,
    cycleId: task.cycleId,
    rung: task.rung,
    rungId: rung.id,
    channel: 'email',
    to: email,
    subject: content.subject,
    status: 'intent',
    createdAt: now.toISOString(),
  };
  if (!(await deps.store.recordNoticeIntent(intent))) {
    return sendNotice(deps, task);
  }

  const messageId = await deps.mailer.send({
    from: tenant.sender.fromEmail,
    to: email,
    ...(tenant.sender.replyTo ? { replyTo: tenant.sender.replyTo } : {}),
    subject: content.subject,
    text: content.text,
    headers: { 'List-Unsubscribe': `<${tenant.sender.optOutUrl}>` },
    tags: { tenant: task.tenantId, rung: rung.id },
  });
  const sentAt = deps.clock.now().toISOString();
  await updateAccount(deps.store, task.tenantId, task.accountId, (current) => {
    const cycle = current.cycle;
    if (!cycle || cycle.cycleId !== task.cycleId)
      throw new Error('the cycle changed while the notice was sent');
    return {
      result: undefined,
      change: {
        after: {
          ...current,
          cycle: {
            ...cycle,
            rung: task.rung,
            lastNoticeAt: sentAt,
            contacts: [...cycle.contacts, sentAt].slice(-50),
          },
          updatedAt: sentAt,
        },
        notices: [{ ...intent, status: 'sent', messageId, sentAt }],
        audit: [
          {
            action: 'notice.sent',
            actor: ACTOR,
            at: sentAt,
            reason: decision.reason,
            data: {
              cycleId: task.cycleId,
              rung: task.rung,
              rungId: rung.id,
              messageId,
              subject: content.subject,
              decision,
            },
          },
        ],
      },
    };
  });
  deps.logger.info('notice sent', {
    tenantId: task.tenantId,
    accountId: task.accountId,
    rung: rung.id,
    messageId,
  });
  return { sent: true, alreadySent: false, messageId, reason: decision.reason };
};

export const makeHandler = (deps: SendNoticeDeps) =>
  middy<unknown, NoticeResult>()
    .use(injectLambdaContext(deps.logger))
    .handler(async (event) => sendNotice(deps, NoticeTask.parse(event)));
