import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { Clock } from '../../../shared/ports/clock';
import type { LadderInput, Workflow } from '../../../shared/ports/workflow';
import {
  LadderSubstitution,
  ladderDefinitionFile,
  ladderTaskStates,
  ladderWaitState,
} from '../../../statemachines/escalation-ladder.substitutions';
import { loadAslDefinition, localExecutionArn, localLambdaArn } from './asl-definition';
import { UnsupportedDefinitionError } from './errors';
import { type StartResult, StateMachineRunner, type TaskHandler } from './state-machine-runner';

/** The escalation ladder's name in local execution ARNs. */
export const LADDER_STATE_MACHINE_NAME = 'escalation-ladder';

/** One local handler per Task state of the ladder (`EvaluateAccount`, `SendNotice`). */
export type LadderTaskBindings = Readonly<Record<keyof typeof ladderTaskStates, TaskHandler>>;

/** `EvaluateAccountFunctionArn` → `evaluate-account`: a readable, never-invoked function name. */
const functionNameOf = (placeholder: string): string =>
  placeholder
    .replace(/FunctionArn$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();

/** The local value of every `${Placeholder}` of the ladder: a Lambda-looking ARN. */
export const localLadderSubstitutions = (): Record<string, string> =>
  Object.fromEntries(
    Object.values(LadderSubstitution).map((placeholder) => [
      placeholder,
      localLambdaArn(functionNameOf(placeholder)),
    ]),
  );

/**
 * The same ASL file the CDK deploys, its placeholders filled with local ARNs. Checked against
 * escalation-ladder.substitutions.ts: each Task state named there uses its placeholder, and the
 * Wait state named there is a Wait.
 */
export const loadLadderDefinition = async (): Promise<StateMachineDefinition> => {
  const substitutions = localLadderSubstitutions();
  const definition = await loadAslDefinition(ladderDefinitionFile, substitutions);
  for (const [stateName, placeholder] of Object.entries(ladderTaskStates)) {
    const state = definition.States[stateName];
    if (state?.Type !== 'Task' || state.Resource !== substitutions[placeholder]) {
      throw new UnsupportedDefinitionError(`${stateName} is not the Task state using \${${placeholder}}`);
    }
  }
  if (definition.States[ladderWaitState]?.Type !== 'Wait') {
    throw new UnsupportedDefinitionError(`${ladderWaitState} is not a Wait state`);
  }
  return definition;
};

export interface LadderRunnerOptions {
  dataDir: string;
  clock: Clock;
  tasks: LadderTaskBindings;
  maxConcurrentExecutions?: number;
  maxStatesPerExecution?: number;
}

/** A runner for statemachines/escalation-ladder.asl.json with the ladder's Task states bound. */
export const openLadderRunner = async (options: LadderRunnerOptions): Promise<StateMachineRunner> =>
  StateMachineRunner.open({
    stateMachineName: LADDER_STATE_MACHINE_NAME,
    definition: await loadLadderDefinition(),
    tasks: options.tasks,
    clock: options.clock,
    dataDir: options.dataDir,
    maxConcurrentExecutions: options.maxConcurrentExecutions,
    maxStatesPerExecution: options.maxStatesPerExecution,
  });

/**
 * The Workflow port on the local runner, answering as SfnWorkflow does on AWS: a name already
 * used by a closed execution (or an open one with another input) means this cycle's ladder exists,
 * which is reported as `alreadyStarted` rather than thrown.
 */
export class LocalWorkflow implements Workflow {
  constructor(private readonly runner: Pick<StateMachineRunner, 'start'>) {}

  async startLadder(executionName: string, input: LadderInput): Promise<StartResult> {
    try {
      return await this.runner.start(executionName, input);
    } catch (error) {
      if ((error as Error).name !== 'ExecutionAlreadyExists') throw error;
      return {
        executionArn: localExecutionArn(LADDER_STATE_MACHINE_NAME, executionName),
        alreadyStarted: true,
      };
    }
  }
}
