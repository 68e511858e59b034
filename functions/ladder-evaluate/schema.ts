import { z } from 'zod';
import { ExternalId, TenantId } from '../../shared/domain/ids';

/** The input the state machine passes to EvaluateAccount (see escalation-ladder.asl.json). */
export const LadderTask = z.object({ tenantId: TenantId, accountId: ExternalId, cycleId: z.string().min(1) });
export type LadderTask = z.infer<typeof LadderTask>;
