import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { LadderInput, Workflow } from '../../ports/workflow';

/** The ladder on AWS Step Functions. */
export class SfnWorkflow implements Workflow {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async startLadder(executionName: string, input: LadderInput) {
    try {
      const response = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName,
          input: JSON.stringify(input),
        }),
      );
      return { executionArn: response.executionArn ?? '', alreadyStarted: false };
    } catch (error) {
      // StartExecution with the name of an open execution and the same input succeeds; a name in
      // use by a closed one (names are reserved 90 days) means this cycle's ladder already ran.
      if (error instanceof ExecutionAlreadyExists) {
        const arn = this.stateMachineArn.replace(':stateMachine:', ':execution:');
        return { executionArn: `${arn}:${executionName}`, alreadyStarted: true };
      }
      throw error;
    }
  }
}
