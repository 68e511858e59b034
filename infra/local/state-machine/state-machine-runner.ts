import { join } from 'node:path';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import type { Clock } from '../../../shared/ports/clock';
import { localExecutionArn } from './asl-definition';
import {
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  InvalidNameError,
  UnsupportedDefinitionError,
} from './errors';
import {
  ExecutionFile,
  type ExecutionRecord,
  type ExecutionStatus,
  type ParkedAt,
  type Segment,
} from './executions';

/**
 * A local stand-in for the Lambda function of a Task state: it receives the state's effective
 * input and returns its result, or throws an error whose `name` the ASL's Retry/Catch match.
 */
export type TaskHandler = (input: unknown) => unknown;

export interface StateMachineRunnerOptions {
  /** The state machine's name in execution ARNs. */
  stateMachineName: string;
  /** The definition with its placeholders filled (see loadAslDefinition). */
  definition: StateMachineDefinition;
  /** One handler per Task state, by state name. Every Task state must have one. */
  tasks: Readonly<Record<string, TaskHandler>>;
  /** The virtual clock Wait states are measured against. */
  clock: Clock;
  /** Executions are kept in `<dataDir>/executions.json`. */
  dataDir: string;
  /** Executions running at the same time; more wait their turn. Defaults to 8. */
  maxConcurrentExecutions?: number;
  /**
   * States one execution may enter before it is failed with `LocalRunner.HistoryLimitExceeded`:
   * a ladder that keeps deciding to wait until a moment already past would otherwise loop
   * forever (on AWS it would end at the 25,000-event history limit). Defaults to 10,000.
   */
  maxStatesPerExecution?: number;
}

export interface StartResult {
  executionArn: string;
  /** True when an open execution with this name and the same input already existed. */
  alreadyStarted: boolean;
}

export interface StopDetails {
  error?: string;
  cause?: string;
}

/** setTimeout's largest delay. A Wait sleeps this long; the runner always aborts it first. */
const HOLD_WAIT_MS = 2_147_483_647;
const DEFAULT_MAX_CONCURRENT = 8;
const DEFAULT_MAX_STATES = 10_000;
const SIMPLE_PATH = /^\$(\.[A-Za-z0-9_-]+)*$/;

interface WaitDefinition {
  Next?: string;
  End?: boolean;
  Seconds?: number;
  Timestamp?: string;
  SecondsPath?: string;
  TimestampPath?: string;
  InputPath?: string | null;
  OutputPath?: string | null;
}

type Outcome =
  | { kind: 'running' }
  | { kind: 'continue'; state: string; input: unknown }
  | { kind: 'parked'; parked: ParkedAt }
  | { kind: 'succeeded'; output: unknown }
  | { kind: 'failed'; error: string; cause: string }
  | { kind: 'aborted' };
type SegmentOutcome = Exclude<Outcome, { kind: 'running' }>;
type FinalOutcome = Exclude<Outcome, { kind: 'running' | 'continue' }>;

/**
 * Runs a state machine's executions on the local runtime with aws-local-stepfunctions, keeping
 * Step Functions' semantics where the runtime can observe them:
 * - Task states run the bound local handlers, as Lambda would: JSON in, JSON out, and a thrown
 *   error's `name` is what Retry and Catch match (Retry pauses are 0 ms; the attempts still count).
 * - Wait states are measured against the virtual clock. When a run enters a Wait, the runner stops
 *   it there; if the Wait's instant has come, a new run carries on at the Wait's `Next` with the
 *   Wait's input right away, otherwise the execution is PARKED until {@link resumeDue} finds the
 *   clock has reached it. That is what the Wait does on AWS, with virtual instead of wall time.
 * - Execution names are unique and reserved: starting an open execution again with the same input
 *   is a no-op; any other reuse throws `ExecutionAlreadyExists`.
 * - Executions (parked, finished, with the states they went through) persist in the data
 *   directory, so a later process resumes parked ones. A run that was cut off mid-way (the process
 *   ended) is run again from the state it started at; the tasks are idempotent.
 *
 * Runs go on in the background: call {@link idle} (or {@link runUntilSettled}) before the process
 * exits or before looking at results.
 */
export class StateMachineRunner {
  static readonly fileName = 'executions.json';

  readonly #stateMachineName: string;
  readonly #definition: StateMachineDefinition;
  readonly #clock: Clock;
  readonly #maxConcurrent: number;
  readonly #maxStates: number;
  readonly #overrides: NonNullable<RunOptions['overrides']>;
  readonly #waits = new Map<string, WaitDefinition & { Next: string }>();
  readonly #machines = new Map<string, StateMachine>();
  readonly #records = new Map<string, ExecutionRecord>();
  readonly #file: ExecutionFile;
  readonly #queue: Array<() => Promise<void>> = [];
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #aborts = new Map<string, () => void>();
  readonly #stopRequests = new Map<string, StopDetails>();
  readonly #failures: unknown[] = [];
  /** Handler calls under way, also those of a run already aborted (the interpreter lets them finish). */
  readonly #taskCalls = new Set<Promise<unknown>>();
  #active = 0;

  private constructor(options: StateMachineRunnerOptions, records: readonly ExecutionRecord[]) {
    this.#stateMachineName = options.stateMachineName;
    this.#definition = options.definition;
    this.#clock = options.clock;
    this.#maxConcurrent = options.maxConcurrentExecutions ?? DEFAULT_MAX_CONCURRENT;
    this.#maxStates = options.maxStatesPerExecution ?? DEFAULT_MAX_STATES;
    this.#overrides = this.#checkDefinition(options.tasks);
    this.#machineStartingAt(this.#definition.StartAt);
    this.#file = new ExecutionFile(join(options.dataDir, StateMachineRunner.fileName), () => [
      ...this.#records.values(),
    ]);
    for (const record of records) this.#records.set(record.name, record);
    this.#recoverInterruptedRuns();
  }

  /** Reads the executions kept in `options.dataDir` and checks the definition against the bindings. */
  static async open(options: StateMachineRunnerOptions): Promise<StateMachineRunner> {
    const records = await ExecutionFile.read(join(options.dataDir, StateMachineRunner.fileName));
    return new StateMachineRunner(options, records);
  }

  /**
   * StartExecution. The run starts in the background; the execution is recorded at once, so a
   * second start with the same name in this process is answered consistently.
   */
  async start(name: string, input: unknown = {}): Promise<StartResult> {
    assertExecutionName(name);
    const json = toJson(input);
    const executionArn = localExecutionArn(this.#stateMachineName, name);
    const existing = this.#records.get(name);
    if (existing) {
      if (isOpen(existing.status) && canonicalJson(existing.input) === canonicalJson(json)) {
        return { executionArn, alreadyStarted: true };
      }
      throw new ExecutionAlreadyExistsError(`Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      name,
      executionArn,
      input: json,
      status: 'RUNNING',
      startedAt: this.#now(),
      path: [],
      events: [],
    };
    this.#records.set(name, record);
    this.#launch(record, { startState: this.#definition.StartAt, input: json, startedAt: record.startedAt });
    return { executionArn, alreadyStarted: false };
  }

  /**
   * StopExecution: a parked execution is aborted at once; a running one when its current state
   * returns (a task already under way finishes, its result is dropped). Closed ones are left as
   * they are.
   */
  async stop(name: string, details: StopDetails = {}): Promise<void> {
    const record = this.#records.get(name);
    if (!record) throw new ExecutionDoesNotExistError(`Execution Does Not Exist: '${name}'`);
    if (record.status === 'PARKED') {
      this.#close(record, { kind: 'aborted' }, details);
      return;
    }
    if (record.status !== 'RUNNING') return;
    this.#stopRequests.set(name, details);
    this.#aborts.get(name)?.();
    await this.#inFlight.get(name);
  }

  /**
   * Resumes every parked execution whose Wait instant the virtual clock has reached, earliest
   * first. Returns their names; the runs go on in the background.
   */
  resumeDue(): string[] {
    const now = this.#clock.now().getTime();
    const due = this.#parked()
      .filter(({ parked }) => Date.parse(parked.wakeAt) <= now)
      .sort(
        (a, b) =>
          Date.parse(a.parked.wakeAt) - Date.parse(b.parked.wakeAt) ||
          a.record.name.localeCompare(b.record.name),
      );
    const at = this.#now();
    for (const { record, parked } of due) {
      record.events.push({ type: 'Resumed', state: parked.resumeState, at });
      this.#launch(record, { startState: parked.resumeState, input: parked.input, startedAt: at });
    }
    return due.map(({ record }) => record.name);
  }

  /** Resolves when no run or handler call is under way and every change is on disk. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0 || this.#taskCalls.size > 0) {
      await Promise.allSettled([...this.#inFlight.values(), ...this.#taskCalls]);
    }
    await this.#file.flush();
    if (this.#failures.length > 0) {
      throw new AggregateError(this.#failures.splice(0), 'The local state machine runner failed');
    }
  }

  /** Runs until every execution has finished or is parked beyond the virtual clock's now. */
  async runUntilSettled(): Promise<void> {
    await this.idle();
    while (this.resumeDue().length > 0) await this.idle();
  }

  /** The earliest instant a parked execution waits for: where to move the clock next. */
  nextWakeAt(): Date | undefined {
    const instants = this.#parked().map(({ parked }) => Date.parse(parked.wakeAt));
    return instants.length === 0 ? undefined : new Date(Math.min(...instants));
  }

  /** A copy of one execution's record, for `explain` and tests. */
  describe(name: string): ExecutionRecord | undefined {
    const record = this.#records.get(name);
    return record && structuredClone(record);
  }

  /** Copies of all execution records, in the order they were started. */
  list(): ExecutionRecord[] {
    return [...this.#records.values()].map((record) => structuredClone(record));
  }

  #parked(): Array<{ record: ExecutionRecord; parked: ParkedAt }> {
    return [...this.#records.values()].flatMap((record) =>
      record.status === 'PARKED' && record.parked ? [{ record, parked: record.parked }] : [],
    );
  }

  #launch(record: ExecutionRecord, segment: Segment): void {
    record.status = 'RUNNING';
    record.parked = undefined;
    record.segment = segment;
    this.#file.markChanged();
    const job = new Promise<void>((resolve) => {
      this.#queue.push(async () => {
        try {
          await this.#drive(record);
        } catch (error) {
          this.#failures.push(error);
        } finally {
          resolve();
        }
      });
    });
    this.#inFlight.set(record.name, job);
    void job.then(() => {
      if (this.#inFlight.get(record.name) === job) this.#inFlight.delete(record.name);
    });
    this.#pump();
  }

  #pump(): void {
    while (this.#active < this.#maxConcurrent) {
      const next = this.#queue.shift();
      if (!next) return;
      this.#active += 1;
      void next().finally(() => {
        this.#active -= 1;
        this.#pump();
      });
    }
  }

  /** Runs segment after segment until the execution parks or closes. */
  async #drive(record: ExecutionRecord): Promise<void> {
    for (;;) {
      const stop = this.#stopRequests.get(record.name);
      if (stop) {
        this.#close(record, { kind: 'aborted' }, stop);
        return;
      }
      const outcome = await this.#runSegment(record, record.segment!);
      if (outcome.kind !== 'continue') {
        this.#close(record, outcome, this.#stopRequests.get(record.name) ?? {});
        return;
      }
      record.segment = { startState: outcome.state, input: toJson(outcome.input), startedAt: this.#now() };
      this.#file.markChanged();
    }
  }

  async #runSegment(record: ExecutionRecord, segment: Segment): Promise<SegmentOutcome> {
    const execution = this.#machineStartingAt(segment.startState).run(segment.input as JsonInput, {
      overrides: this.#overrides,
      noThrowOnAbort: true,
      context: { Execution: { Id: record.executionArn, Name: record.name } },
    });
    this.#aborts.set(record.name, execution.abort);
    let outcome: Outcome = { kind: 'running' };
    try {
      for await (const event of execution.eventLogs) {
        const at = this.#now();
        switch (event.type) {
          case 'StateEntered': {
            record.path.push({ state: event.state.name, at });
            const wait = this.#waits.get(event.state.name);
            if (record.path.length > this.#maxStates) {
              outcome = {
                kind: 'failed',
                error: 'LocalRunner.HistoryLimitExceeded',
                cause: `The execution entered more than ${this.#maxStates} states`,
              };
              execution.abort();
            } else if (wait) {
              outcome = this.#atWait(record, event.state.name, wait, event.state.input, at);
              execution.abort();
            }
            break;
          }
          case 'StateFailed':
            record.events.push({
              type: 'Failed',
              state: event.state.name,
              at,
              error: event.Error,
              cause: text(event.Cause),
            });
            break;
          case 'StateRetried':
            record.events.push({
              type: 'Retried',
              state: event.state.name,
              at,
              attempt: event.retry.attempt,
            });
            break;
          case 'StateCaught':
            record.events.push({ type: 'Caught', state: event.state.name, at });
            break;
          case 'ExecutionSucceeded':
            outcome = { kind: 'succeeded', output: event.output };
            break;
          case 'ExecutionFailed':
            outcome = { kind: 'failed', error: event.Error, cause: text(event.Cause) };
            break;
          case 'ExecutionAborted':
            if (outcome.kind === 'running') outcome = { kind: 'aborted' };
            break;
        }
      }
    } catch (error) {
      // Otherwise a run held in a Wait would never end, and neither would the wait for its result.
      execution.abort();
      throw error;
    } finally {
      this.#aborts.delete(record.name);
      // The failure is known from its event; the rejection only needs handling.
      await execution.result.catch(() => undefined);
    }
    if (outcome.kind === 'running') {
      return { kind: 'failed', error: 'LocalRunner.Internal', cause: 'The run ended without a final event' };
    }
    return outcome;
  }

  /** What the Wait state does, measured against the virtual clock. */
  #atWait(
    record: ExecutionRecord,
    stateName: string,
    wait: WaitDefinition & { Next: string },
    input: unknown,
    at: string,
  ): Outcome {
    const now = this.#clock.now();
    const wakeAt = wakeAtOf(wait, input, now);
    if (typeof wakeAt === 'string') return { kind: 'failed', error: 'States.Runtime', cause: wakeAt };
    if (wakeAt.getTime() <= now.getTime()) return { kind: 'continue', state: wait.Next, input };
    const parked: ParkedAt = {
      resumeState: wait.Next,
      input: toJson(input),
      wakeAt: wakeAt.toISOString(),
      parkedAt: at,
    };
    record.events.push({ type: 'Parked', state: stateName, at, wakeAt: parked.wakeAt });
    return { kind: 'parked', parked };
  }

  #close(record: ExecutionRecord, outcome: FinalOutcome, stop: StopDetails): void {
    record.segment = undefined;
    record.parked = undefined;
    if (this.#stopRequests.has(record.name) || outcome.kind === 'aborted') {
      this.#stopRequests.delete(record.name);
      record.status = 'ABORTED';
      record.stoppedAt = this.#now();
      record.error = stop.error;
      record.cause = stop.cause;
    } else if (outcome.kind === 'parked') {
      record.status = 'PARKED';
      record.parked = outcome.parked;
    } else if (outcome.kind === 'succeeded') {
      record.status = 'SUCCEEDED';
      record.stoppedAt = this.#now();
      record.output = toJson(outcome.output);
    } else {
      record.status = 'FAILED';
      record.stoppedAt = this.#now();
      record.error = outcome.error;
      record.cause = outcome.cause;
    }
    this.#file.markChanged();
  }

  /** A run cut off by the end of a process is run again from the state it started at. */
  #recoverInterruptedRuns(): void {
    const at = this.#now();
    for (const record of this.#records.values()) {
      if (record.status !== 'RUNNING') continue;
      const segment = record.segment ?? {
        startState: this.#definition.StartAt,
        input: record.input,
        startedAt: at,
      };
      record.events.push({ type: 'Interrupted', state: segment.startState, at });
      record.status = 'PARKED';
      record.segment = undefined;
      record.parked = {
        resumeState: segment.startState,
        input: segment.input,
        wakeAt: segment.startedAt,
        parkedAt: at,
      };
    }
  }

  #machineStartingAt(startState: string): StateMachine {
    let machine = this.#machines.get(startState);
    if (!machine) {
      // The same definition; only where the run begins differs.
      machine = new StateMachine({ ...this.#definition, StartAt: startState });
      this.#machines.set(startState, machine);
    }
    return machine;
  }

  /** Checks what the runner relies on and builds the run overrides. */
  #checkDefinition(tasks: Readonly<Record<string, TaskHandler>>): NonNullable<RunOptions['overrides']> {
    const taskResourceLocalHandlers: Record<string, LocalHandler> = {};
    const waitTimeOverrides: Record<string, number> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [name, state] of Object.entries(this.#definition.States)) {
      if (state.Type === 'Map' || state.Type === 'Parallel') {
        throw new UnsupportedDefinitionError(
          `${name}: ${state.Type} states are not supported by the local runner`,
        );
      }
      if ('Retry' in state && state.Retry) retryIntervalOverrides[name] = 0;
      if (state.Type === 'Task') {
        const handler = tasks[name];
        // Without a binding the interpreter would call the real Lambda service.
        if (!handler)
          throw new UnsupportedDefinitionError(`${name}: no local handler is bound to this Task state`);
        taskResourceLocalHandlers[name] = this.#asLambda(handler);
      }
      if (state.Type === 'Wait') {
        const wait = state as WaitDefinition;
        if (wait.InputPath !== undefined || wait.OutputPath !== undefined || !wait.Next) {
          throw new UnsupportedDefinitionError(
            `${name}: a Wait state needs Next and no InputPath/OutputPath here`,
          );
        }
        for (const path of [wait.SecondsPath, wait.TimestampPath]) {
          if (path !== undefined && !SIMPLE_PATH.test(path)) {
            throw new UnsupportedDefinitionError(
              `${name}: only $.a.b paths are supported in Wait states, not ${path}`,
            );
          }
        }
        this.#waits.set(name, { ...wait, Next: wait.Next });
        waitTimeOverrides[name] = HOLD_WAIT_MS;
      }
    }
    const unknown = Object.keys(tasks).filter((name) => this.#definition.States[name]?.Type !== 'Task');
    if (unknown.length > 0) throw new UnsupportedDefinitionError(`Not Task states: ${unknown.join(', ')}`);
    return { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides };
  }

  /**
   * What Lambda does around a handler: the input and the result cross as JSON, and a thrown error
   * reaches Step Functions as its `name` (the Error) and a JSON Cause with errorType, errorMessage
   * and trace.
   */
  #asLambda(handler: TaskHandler): LocalHandler {
    return async (input) => {
      const call = (async () => handler(toJson(input)))();
      this.#taskCalls.add(call);
      try {
        return toJson((await call) ?? null) as JsonInput;
      } catch (error) {
        throw new TaskError(error);
      } finally {
        this.#taskCalls.delete(call);
      }
    };
  }

  #now(): string {
    return this.#clock.now().toISOString();
  }
}

type JsonInput = Parameters<StateMachine['run']>[0];
type LocalHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];

const isOpen = (status: ExecutionStatus) => status === 'RUNNING' || status === 'PARKED';

class TaskError extends Error {
  constructor(thrown: unknown) {
    const errorType = thrown instanceof Error ? thrown.name : 'Error';
    const errorMessage = thrown instanceof Error ? thrown.message : String(thrown);
    const trace = thrown instanceof Error ? (thrown.stack?.split('\n') ?? []) : [];
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

const toJson = (value: unknown): z.infer<ReturnType<typeof z.json>> =>
  value === undefined ? null : JSON.parse(JSON.stringify(value));

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** JSON with object keys sorted, so that two inputs compare by content. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

const valueAt = (input: unknown, path: string): unknown =>
  path
    .split('.')
    .slice(1)
    .reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      input,
    );

const Rfc3339 = z.iso.datetime({ offset: true });

/** The instant a Wait state ends, or why it cannot be known (a States.Runtime error on AWS). */
const wakeAtOf = (wait: WaitDefinition, input: unknown, now: Date): Date | string => {
  if (wait.Seconds !== undefined) return new Date(now.getTime() + wait.Seconds * 1000);
  if (wait.Timestamp !== undefined) return new Date(wait.Timestamp);
  if (wait.SecondsPath !== undefined) {
    const seconds = valueAt(input, wait.SecondsPath);
    if (!Number.isInteger(seconds) || (seconds as number) < 0) {
      return `${wait.SecondsPath} is ${JSON.stringify(seconds)}, not a non-negative integer`;
    }
    return new Date(now.getTime() + (seconds as number) * 1000);
  }
  const path = wait.TimestampPath ?? '$';
  const timestamp = valueAt(input, path);
  if (!Rfc3339.safeParse(timestamp).success) {
    return `${path} is ${JSON.stringify(timestamp)}, not an RFC 3339 timestamp`;
  }
  return new Date(timestamp as string);
};

/** Step Functions' rules for execution names. */
const assertExecutionName = (name: string): void => {
  const forbidden = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/u;
  const control = [...name].some((char) => {
    const code = char.codePointAt(0)!;
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });
  if (name.length < 1 || name.length > 80 || forbidden.test(name) || control) {
    throw new InvalidNameError(`Invalid Name: '${name}'`);
  }
};
