/**
 * The `${Placeholders}` of escalation-ladder.asl.json. The CDK fills them with function ARNs;
 * the local runtime binds the same names to the local handlers.
 */
export const ladderDefinitionFile = new URL('./escalation-ladder.asl.json', import.meta.url);

export const LadderSubstitution = {
  evaluateAccount: 'EvaluateAccountFunctionArn',
  sendNotice: 'SendNoticeFunctionArn',
} as const;

/** The Task state each substitution is used by (what the local interpreter overrides). */
export const ladderTaskStates = {
  EvaluateAccount: LadderSubstitution.evaluateAccount,
  SendNotice: LadderSubstitution.sendNotice,
} as const;

/** The Wait state that waits for the next action, resolved against the virtual clock locally. */
export const ladderWaitState = 'WaitUntilNextAction';
