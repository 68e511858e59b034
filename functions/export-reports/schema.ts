import { TenantId } from '../../shared/domain/ids';
import * as z from '../../shared/zod';

/** The scheduler's input: which tenants to export (all when absent). */
export const ExportReportsEvent = z.onFirstUse(() =>
  z.looseObject({ tenantIds: z.optional(z.array(TenantId)) }),
);
export type ExportReportsEvent = z.infer<typeof ExportReportsEvent>;

export const ExportReportsResult = z.onFirstUse(() =>
  z.object({
    tenants: z.number().check(z.int()),
    /** Data rows written over all tenants (headers not counted). */
    rows: z.number().check(z.int()),
    /** Object keys written in the reports bucket. */
    keys: z.array(z.string()),
  }),
);
export type ExportReportsResult = z.infer<typeof ExportReportsResult>;
