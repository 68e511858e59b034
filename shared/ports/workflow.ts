/** The escalation ladder's workflow engine (Step Functions on AWS, the ASL interpreter locally). */
export interface Workflow {
  /**
   * Starts the ladder for one account and cycle. The name makes it idempotent: starting an
   * execution that already exists with the same input is not an error.
   */
  startLadder(
    executionName: string,
    input: LadderInput,
  ): Promise<{ executionArn: string; alreadyStarted: boolean }>;
}

export interface LadderInput {
  tenantId: string;
  accountId: string;
  cycleId: string;
}
