import { ExternalId, TenantId } from '../../shared/domain/ids';
import * as z from '../../shared/zod';

/** The input the state machine passes to EvaluateAccount (see escalation-ladder.asl.json). */
export const LadderTask = z.onFirstUse(() =>
  z.object({
    tenantId: TenantId,
    accountId: ExternalId,
    cycleId: z.string().check(z.minLength(1)),
  }),
);
export type LadderTask = z.infer<typeof LadderTask>;
