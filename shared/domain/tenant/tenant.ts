import { InvoiceFormat } from '../../ingest/format';
import * as z from '../../zod';
import { ComplianceProfile } from '../compliance/profile';
import { TenantId } from '../ids';
import { LadderPolicy, NoticeTemplate } from '../ladder/policy';
import { unknownPlaceholders } from '../ladder/template';

/** One creditor's settings: how its files look, which ladder and rules apply, who signs notices. */
export const TenantConfig = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    name: z.string().check(z.minLength(1)),
    /** The creditor's own zone: schedules and "today" for aging are in it. */
    timeZone: z.string(),
    sender: z.object({
      fromEmail: z.string().check(z.email()),
      replyTo: z.optional(z.string().check(z.email())),
      /** Where a debtor opts out; every notice carries it (List-Unsubscribe and the footer). */
      optOutUrl: z.string().check(z.url()),
    }),
    invoices: InvoiceFormat,
    ladder: LadderPolicy,
    compliance: ComplianceProfile,
    templates: z.record(z.string(), NoticeTemplate),
  }),
);
export type TenantConfig = z.infer<typeof TenantConfig>;

export const TenantRegistry = z.onFirstUse(() =>
  z.object({ tenants: z.array(TenantConfig).check(z.minLength(1)) }).check(
    z.superRefine((registry, ctx) => {
      const seen = new Set<string>();
      registry.tenants.forEach((tenant, index) => {
        if (seen.has(tenant.tenantId)) {
          ctx.addIssue({
            code: 'custom',
            path: ['tenants', index, 'tenantId'],
            message: 'duplicate tenant id',
          });
        }
        seen.add(tenant.tenantId);
        for (const [name, template] of Object.entries(tenant.templates)) {
          const unknown = [...unknownPlaceholders(template.subject), ...unknownPlaceholders(template.text)];
          if (unknown.length > 0) {
            ctx.addIssue({
              code: 'custom',
              path: ['tenants', index, 'templates', name],
              message: `unknown placeholder(s): ${unknown.map((u) => `{{${u}}}`).join(', ')}`,
            });
          }
        }
        for (const rung of tenant.ladder.rungs) {
          if (rung.template && !tenant.templates[rung.template]) {
            ctx.addIssue({
              code: 'custom',
              path: ['tenants', index, 'ladder'],
              message: `rung "${rung.id}" uses template "${rung.template}", which is not defined`,
            });
          }
        }
      });
    }),
  ),
);
export type TenantRegistry = z.infer<typeof TenantRegistry>;

export class UnknownTenantError extends Error {
  override readonly name = 'UnknownTenantError';
  constructor(readonly tenantId: string) {
    super(`unknown tenant "${tenantId}": it is not in the tenant registry`);
  }
}

export interface Tenants {
  get(tenantId: string): TenantConfig;
  has(tenantId: string): boolean;
  all(): TenantConfig[];
}

export const tenantsFrom = (registry: TenantRegistry): Tenants => {
  const byId = new Map(registry.tenants.map((tenant) => [tenant.tenantId, tenant]));
  return {
    get: (tenantId) => {
      const tenant = byId.get(tenantId);
      if (!tenant) throw new UnknownTenantError(tenantId);
      return tenant;
    },
    has: (tenantId) => byId.has(tenantId),
    all: () => [...byId.values()],
  };
};
