import { z } from 'zod';
import { TenantId } from '../../shared/domain/ids';

/** The scheduler's input: which tenants to export (all when absent). */
export const ExportReportsEvent = z.looseObject({ tenantIds: z.array(TenantId).optional() });
export type ExportReportsEvent = z.infer<typeof ExportReportsEvent>;

export const ExportReportsResult = z.object({
  tenants: z.number().int(),
  /** Data rows written over all tenants (headers not counted). */
  rows: z.number().int(),
  /** Object keys written in the reports bucket. */
  keys: z.array(z.string()),
});
export type ExportReportsResult = z.infer<typeof ExportReportsResult>;
