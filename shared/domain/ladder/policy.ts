import * as z from '../../zod';

/**
 * What a rung does. `notice` sends an e-mail; `handover`, `bureau-report` and `write-off` end
 * the automatic ladder and leave the account for people or partner systems (later issues wire
 * the agency and bureau integrations; here they are recorded and the ladder stops).
 */
export const RungKind = z.onFirstUse(() => z.enum(['notice', 'handover', 'bureau-report', 'write-off']));
export type RungKind = z.infer<typeof RungKind>;

export const Rung = z.onFirstUse(() =>
  z.object({
    id: z.string().check(z.regex(/^[a-z][a-z0-9-]*$/)),
    kind: RungKind,
    /** Days past due (of the oldest unpaid invoice) from which this rung may act. */
    afterDaysPastDue: z.number().check(z.int(), z.minimum(0)),
    /** Template of the notice (for `notice` rungs). */
    template: z.optional(z.string()),
  }),
);
export type Rung = z.infer<typeof Rung>;

export const LadderPolicy = z.onFirstUse(() =>
  z
    .object({
      policyId: z.string(),
      /** Bumped on every change, recorded in each decision's audit entry. */
      version: z.number().check(z.int(), z.minimum(1)),
      /** Days after the due date before an account enters a cycle at all. */
      graceDays: z.number().check(z.int(), z.minimum(0)),
      /** At least this many days between two notices of one cycle. */
      minDaysBetweenNotices: z.number().check(z.int(), z.minimum(0)),
      rungs: z.array(Rung).check(z.minLength(1)),
    })
    .check(
      z.superRefine((policy, ctx) => {
        policy.rungs.forEach((rung, index) => {
          const previous = policy.rungs[index - 1];
          if (previous && rung.afterDaysPastDue < previous.afterDaysPastDue) {
            ctx.addIssue({
              code: 'custom',
              path: ['rungs', index, 'afterDaysPastDue'],
              message: `rung "${rung.id}" comes before "${previous.id}" in days past due`,
            });
          }
          if (rung.kind === 'notice' && !rung.template) {
            ctx.addIssue({
              code: 'custom',
              path: ['rungs', index, 'template'],
              message: 'a notice rung needs a template',
            });
          }
        });
      }),
    ),
);
export type LadderPolicy = z.infer<typeof LadderPolicy>;

/** A notice template: `{{name}}` placeholders, filled only from the known variables. */
export const NoticeTemplate = z.onFirstUse(() =>
  z.object({
    subject: z.string().check(z.minLength(1)),
    text: z.string().check(z.minLength(1)),
  }),
);
export type NoticeTemplate = z.infer<typeof NoticeTemplate>;
