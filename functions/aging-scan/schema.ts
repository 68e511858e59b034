import { z } from 'zod';
import { TenantId } from '../../shared/domain/ids';

/** The scheduler's input: which tenants to scan (all when absent). */
export const AgingScanEvent = z.object({ tenantIds: z.array(TenantId).optional() }).loose();
export type AgingScanEvent = z.infer<typeof AgingScanEvent>;

export const TenantScanResult = z.object({
  tenantId: TenantId,
  asOf: z.string(),
  overdue: z.number().int(),
  laddersStarted: z.number().int(),
  alreadyRunning: z.number().int(),
});
export type TenantScanResult = z.infer<typeof TenantScanResult>;

export const AgingScanResult = z.object({ tenants: z.array(TenantScanResult) });
export type AgingScanResult = z.infer<typeof AgingScanResult>;
