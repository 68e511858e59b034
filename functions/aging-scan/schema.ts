import { TenantId } from '../../shared/domain/ids';
import * as z from '../../shared/zod';

/** The scheduler's input: which tenants to scan (all when absent). */
export const AgingScanEvent = z.onFirstUse(() => z.looseObject({ tenantIds: z.optional(z.array(TenantId)) }));
export type AgingScanEvent = z.infer<typeof AgingScanEvent>;

export const TenantScanResult = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    asOf: z.string(),
    overdue: z.number().check(z.int()),
    laddersStarted: z.number().check(z.int()),
    alreadyRunning: z.number().check(z.int()),
  }),
);
export type TenantScanResult = z.infer<typeof TenantScanResult>;

export const AgingScanResult = z.onFirstUse(() => z.object({ tenants: z.array(TenantScanResult) }));
export type AgingScanResult = z.infer<typeof AgingScanResult>;
