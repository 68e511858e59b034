import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type LadderTaskBindings,
  LocalWorkflow,
  loadLadderDefinition,
  openLadderRunner,
} from '../../infra/local/state-machine/ladder-runner';
import { StateMachineRunner } from '../../infra/local/state-machine/state-machine-runner';
import { VirtualClock } from '../../infra/local/virtual-clock';

const DAY = 86_400_000;
const T0 = '2025-03-03T09:00:00.000Z';
const at = (offsetMs: number) => new Date(Date.parse(T0) + offsetMs).toISOString();
const input = { tenantId: 'acme', accountId: 'A-1', cycleId: 'c1' };

const send = (rung: number) => ({
  action: 'send',
  rung,
  rungId: `r${rung}`,
  reason: 'due',
  policyVersion: 1,
});
const waitUntil = (nextActionAt: string) => ({
  action: 'wait',
  nextActionAt,
  reason: 'not yet',
  policyVersion: 1,
});
const stop = { action: 'stop', outcome: 'cured', reason: 'paid', policyVersion: 1 };
const named = (name: string, message: string) => Object.assign(new Error(message), { name });

type Step = object | Error;

/** A stand-in for a ladder handler: answers with the next scripted step and notes each call. */
const scripted = (clock: VirtualClock, steps: Step[]) => {
  const calls: Array<{ input: unknown; at: string }> = [];
  const handler = async (taskInput: unknown) => {
    calls.push({ input: taskInput, at: clock.now().toISOString() });
    const step = steps[Math.min(calls.length, steps.length) - 1];
    if (step instanceof Error) throw step;
    return step;
  };
  return { handler, calls };
};

const statesOf = (record: { path: Array<{ state: string }> } | undefined) =>
  record?.path.map((entry) => entry.state);

describe('escalation ladder on the local runner', () => {
  let dataDir: string;
  let clock: VirtualClock;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arrears-ladder-'));
    clock = await VirtualClock.load(dataDir, { now: T0 });
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const open = (tasks: LadderTaskBindings) => openLadderRunner({ dataDir, clock, tasks });

  it('loads the deployed ASL file with local Lambda ARNs in place of its placeholders', async () => {
    const definition = await loadLadderDefinition();

    expect(JSON.stringify(definition)).not.toContain('${');
    expect(definition.States.EvaluateAccount).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:evaluate-account',
    });
    expect(definition.States.SendNotice).toMatchObject({
      Resource: 'arn:aws:lambda:us-east-1:000000000000:function:send-notice',
    });
  });

  it('refuses to run a Task state without a local handler (it would call the real Lambda)', async () => {
    const evaluate = scripted(clock, [stop]);

    const opening = open({ EvaluateAccount: evaluate.handler } as unknown as LadderTaskBindings);

    await expect(opening).rejects.toMatchObject({ name: 'UnsupportedDefinitionError' });
  });

  it('sends, parks at a future Wait, and resumes at EvaluateAccount once the virtual clock gets there', async () => {
    const evaluate = scripted(clock, [send(0), waitUntil(at(7 * DAY)), stop]);
    const notices = scripted(clock, [{ sent: true, messageId: 'm-1', reason: 'sent' }]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: notices.handler });

    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();
    const parked = runner.describe('acme-A-1-c1');

    expect(parked?.status).toBe('PARKED');
    expect(statesOf(parked)).toEqual([
      'EvaluateAccount',
      'ChooseAction',
      'SendNotice',
      'EvaluateAccount',
      'ChooseAction',
      'WaitUntilNextAction',
    ]);
    expect(notices.calls.map((call) => call.input)).toEqual([{ ...input, rung: 0 }]);
    expect(parked?.parked).toMatchObject({
      resumeState: 'EvaluateAccount',
      wakeAt: at(7 * DAY),
      input: { ...input, decision: waitUntil(at(7 * DAY)), notice: { sent: true, messageId: 'm-1' } },
    });
    expect(runner.nextWakeAt()?.toISOString()).toBe(at(7 * DAY));

    clock.advance(6 * DAY);
    await runner.runUntilSettled();
    expect(runner.describe('acme-A-1-c1')?.status).toBe('PARKED');
    expect(evaluate.calls).toHaveLength(2);

    clock.advance(DAY);
    await runner.runUntilSettled();
    const finished = runner.describe('acme-A-1-c1');

    expect(finished?.status).toBe('SUCCEEDED');
    expect(statesOf(finished)?.slice(6)).toEqual(['EvaluateAccount', 'ChooseAction', 'LadderStopped']);
    expect(evaluate.calls[2]).toEqual({ input, at: at(7 * DAY) });
    expect(finished?.output).toMatchObject({ ...input, decision: stop, notice: { messageId: 'm-1' } });
    expect(finished?.events.map((event) => event.type)).toEqual(['Parked', 'Resumed']);
    expect(finished?.stoppedAt).toBe(at(7 * DAY));
  });

  it('goes straight on when the Wait instant has already come', async () => {
    const evaluate = scripted(clock, [waitUntil(at(-3_600_000)), stop]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: scripted(clock, []).handler });

    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();
    const record = runner.describe('acme-A-1-c1');

    expect(record?.status).toBe('SUCCEEDED');
    expect(statesOf(record)).toEqual([
      'EvaluateAccount',
      'ChooseAction',
      'WaitUntilNextAction',
      'EvaluateAccount',
      'ChooseAction',
      'LadderStopped',
    ]);
    expect(record?.events).toEqual([]);
  });

  it('retries a VersionConflictError as the ASL Retry says, then succeeds', async () => {
    const conflict = named('VersionConflictError', 'account changed under us');
    const evaluate = scripted(clock, [conflict, conflict, stop]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: scripted(clock, []).handler });

    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();
    const record = runner.describe('acme-A-1-c1');

    expect(record?.status).toBe('SUCCEEDED');
    expect(evaluate.calls).toHaveLength(3);
    expect(statesOf(record)).toEqual(['EvaluateAccount', 'ChooseAction', 'LadderStopped']);
    expect(record?.events.map(({ type, error, attempt }) => ({ type, error, attempt }))).toEqual([
      { type: 'Failed', error: 'VersionConflictError', attempt: undefined },
      { type: 'Retried', error: undefined, attempt: 1 },
      { type: 'Failed', error: 'VersionConflictError', attempt: undefined },
      { type: 'Retried', error: undefined, attempt: 2 },
    ]);
  });

  it('gives up after the Retry MaxAttempts and fails the ladder', async () => {
    const evaluate = scripted(clock, [named('VersionConflictError', 'always')]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: scripted(clock, []).handler });

    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();

    // One attempt plus MaxAttempts (5) retries.
    expect(evaluate.calls).toHaveLength(6);
    expect(runner.describe('acme-A-1-c1')).toMatchObject({ status: 'FAILED', error: 'LadderFailed' });
  });

  it('sends an unknown error to LadderFailed without retrying, keeping the task error', async () => {
    const notices = scripted(clock, [named('TemplateMissingError', 'no template for rung 0')]);
    const evaluate = scripted(clock, [send(0)]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: notices.handler });

    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();
    const record = runner.describe('acme-A-1-c1');

    expect(notices.calls).toHaveLength(1);
    expect(record).toMatchObject({ status: 'FAILED', error: 'LadderFailed' });
    expect(record?.cause).toContain('A ladder task failed after its retries');
    expect(statesOf(record)?.slice(-2)).toEqual(['SendNotice', 'LadderFailed']);
    const failure = record?.events.find((event) => event.type === 'Failed' && event.state === 'SendNotice');
    expect(failure?.error).toBe('TemplateMissingError');
    expect(JSON.parse(failure?.cause ?? '{}')).toMatchObject({
      errorType: 'TemplateMissingError',
      errorMessage: 'no template for rung 0',
    });
    expect(record?.events.map((event) => event.type)).toEqual(['Failed', 'Caught', 'Failed']);
  });

  it('fails with States.Runtime when the Wait timestamp is not an RFC 3339 instant', async () => {
    const evaluate = scripted(clock, [waitUntil('next tuesday')]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: scripted(clock, []).handler });

    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();

    expect(runner.describe('acme-A-1-c1')).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  });

  it('starts by name idempotently and reserves names like StartExecution', async () => {
    const evaluate = scripted(clock, [waitUntil(at(DAY)), stop]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: scripted(clock, []).handler });

    const first = await runner.start('acme-A-1-c1', input);
    const again = await runner.start('acme-A-1-c1', { cycleId: 'c1', accountId: 'A-1', tenantId: 'acme' });
    const otherInput = runner.start('acme-A-1-c1', { ...input, cycleId: 'c2' });
    await expect(otherInput).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await runner.runUntilSettled();
    const whileParked = await runner.start('acme-A-1-c1', input);
    clock.advance(DAY);
    await runner.runUntilSettled();
    const afterClose = runner.start('acme-A-1-c1', input);

    expect(first).toEqual({
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:escalation-ladder:acme-A-1-c1',
      alreadyStarted: false,
    });
    expect(again.alreadyStarted).toBe(true);
    expect(whileParked.alreadyStarted).toBe(true);
    await expect(afterClose).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(evaluate.calls).toHaveLength(2);
    await expect(runner.start('acme A-1', input)).rejects.toMatchObject({ name: 'InvalidName' });
  });

  it('answers through the Workflow port as SfnWorkflow does', async () => {
    const runner = await open({
      EvaluateAccount: scripted(clock, [stop]).handler,
      SendNotice: scripted(clock, []).handler,
    });
    const workflow = new LocalWorkflow(runner);

    const started = await workflow.startLadder('acme-A-1-c1', input);
    await runner.runUntilSettled();
    const afterClose = await workflow.startLadder('acme-A-1-c1', input);

    expect(started.alreadyStarted).toBe(false);
    expect(afterClose).toEqual({ executionArn: started.executionArn, alreadyStarted: true });
    expect(runner.list()).toHaveLength(1);
  });

  it('keeps parked executions and the clock for a later process on the same data directory', async () => {
    const firstEvaluate = scripted(clock, [waitUntil(at(3 * DAY))]);
    const firstRunner = await open({
      EvaluateAccount: firstEvaluate.handler,
      SendNotice: scripted(clock, []).handler,
    });
    await firstRunner.start('acme-A-1-c1', input);
    await firstRunner.runUntilSettled();
    clock.advance(3 * DAY);
    await clock.save();

    const laterClock = await VirtualClock.load(dataDir);
    const laterEvaluate = scripted(laterClock, [stop]);
    const laterRunner = await openLadderRunner({
      dataDir,
      clock: laterClock,
      tasks: { EvaluateAccount: laterEvaluate.handler, SendNotice: scripted(laterClock, []).handler },
    });
    const reserved = await laterRunner.start('acme-A-1-c1', input);
    await laterRunner.runUntilSettled();
    const record = laterRunner.describe('acme-A-1-c1');

    expect(laterClock.now().toISOString()).toBe(at(3 * DAY));
    expect(reserved.alreadyStarted).toBe(true);
    expect(laterEvaluate.calls).toEqual([{ input, at: at(3 * DAY) }]);
    expect(record?.status).toBe('SUCCEEDED');
    expect(statesOf(record)).toEqual([
      'EvaluateAccount',
      'ChooseAction',
      'WaitUntilNextAction',
      'EvaluateAccount',
      'ChooseAction',
      'LadderStopped',
    ]);
  });

  it('runs again, from the state it started at, a run a process left unfinished', async () => {
    const evaluate = scripted(clock, [send(1), stop]);
    const runner = await open({
      EvaluateAccount: evaluate.handler,
      SendNotice: scripted(clock, [{}]).handler,
    });
    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();
    // What the file holds when a process ends in the middle of a run that began at SendNotice.
    const file = join(dataDir, StateMachineRunner.fileName);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    stored.executions[0] = {
      ...stored.executions[0],
      status: 'RUNNING',
      stoppedAt: undefined,
      output: undefined,
      path: stored.executions[0].path.slice(0, 3),
      segment: { startState: 'SendNotice', input: { ...input, decision: send(1) }, startedAt: T0 },
    };
    await writeFile(file, JSON.stringify(stored));

    const notices = scripted(clock, [{ sent: true, reason: 'sent' }]);
    const later = await open({
      EvaluateAccount: scripted(clock, [stop]).handler,
      SendNotice: notices.handler,
    });
    await later.runUntilSettled();
    const record = later.describe('acme-A-1-c1');

    expect(notices.calls.map((call) => call.input)).toEqual([{ ...input, rung: 1 }]);
    expect(record?.status).toBe('SUCCEEDED');
    expect(record?.events.map((event) => event.type)).toContain('Interrupted');
  });

  it('fails an execution that keeps going round instead of looping forever', async () => {
    const evaluate = scripted(clock, [waitUntil(T0)]);
    const runner = await openLadderRunner({
      dataDir,
      clock,
      tasks: { EvaluateAccount: evaluate.handler, SendNotice: scripted(clock, []).handler },
      maxStatesPerExecution: 30,
    });

    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();

    expect(runner.describe('acme-A-1-c1')).toMatchObject({
      status: 'FAILED',
      error: 'LocalRunner.HistoryLimitExceeded',
    });
    // Ten rounds of three states; the 31st state's handler has started by the time the runner sees it.
    expect(evaluate.calls).toHaveLength(11);
  });

  it('stops a parked execution so that it never resumes', async () => {
    const evaluate = scripted(clock, [waitUntil(at(DAY)), stop]);
    const runner = await open({ EvaluateAccount: evaluate.handler, SendNotice: scripted(clock, []).handler });
    await runner.start('acme-A-1-c1', input);
    await runner.runUntilSettled();

    await runner.stop('acme-A-1-c1', { error: 'AccountPaid', cause: 'paid in full' });
    clock.advance(DAY);
    await runner.runUntilSettled();

    expect(runner.describe('acme-A-1-c1')).toMatchObject({ status: 'ABORTED', error: 'AccountPaid' });
    expect(evaluate.calls).toHaveLength(1);
  });

  it('stops a running execution; the task under way finishes but its result goes nowhere', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => {};
    const evaluating = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const notices = scripted(clock, [{ sent: true }]);
    const evaluate = async () => {
      entered();
      await gate;
      return send(0);
    };
    const runner = await open({ EvaluateAccount: evaluate, SendNotice: notices.handler });
    await runner.start('acme-A-1-c1', input);
    await evaluating;

    await runner.stop('acme-A-1-c1', { error: 'AccountPaid' });
    release();
    await runner.runUntilSettled();
    const record = runner.describe('acme-A-1-c1');

    expect(record).toMatchObject({ status: 'ABORTED', error: 'AccountPaid' });
    expect(statesOf(record)).toEqual(['EvaluateAccount']);
    expect(notices.calls).toEqual([]);
  });

  it('runs many executions with no more than the allowed number at once', async () => {
    let running = 0;
    let mostAtOnce = 0;
    const evaluate = async () => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return stop;
    };
    const runner = await openLadderRunner({
      dataDir,
      clock,
      tasks: { EvaluateAccount: evaluate, SendNotice: scripted(clock, []).handler },
      maxConcurrentExecutions: 3,
    });

    for (let i = 0; i < 12; i += 1) await runner.start(`acme-A-${i}-c1`, { ...input, accountId: `A-${i}` });
    await runner.runUntilSettled();

    expect(runner.list().map((record) => record.status)).toEqual(Array(12).fill('SUCCEEDED'));
    expect(mostAtOnce).toBe(3);
  });
});

describe('VirtualClock', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'arrears-clock-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts at the real time when nothing is stored, and stands still', async () => {
    const before = Date.now();
    const clock = await VirtualClock.load(dataDir);
    const after = Date.now();

    expect(clock.now().getTime()).toBeGreaterThanOrEqual(before);
    expect(clock.now().getTime()).toBeLessThanOrEqual(after);
    expect(clock.now().getTime()).toBe(clock.now().getTime());
  });

  it('carries its instant to the next load; an explicit now wins over it', async () => {
    const clock = await VirtualClock.load(dataDir, { now: T0 });
    clock.advance(2 * DAY);
    await clock.save();

    const reloaded = await VirtualClock.load(dataDir);
    const overridden = await VirtualClock.load(dataDir, { now: '2025-06-01T00:00:00+02:00' });

    expect(reloaded.now().toISOString()).toBe(at(2 * DAY));
    expect(overridden.now().toISOString()).toBe('2025-05-31T22:00:00.000Z');
  });

  it('moves only forward with advance, and anywhere with set', async () => {
    const clock = await VirtualClock.load(dataDir, { now: T0 });

    expect(() => clock.advance(-1)).toThrow(RangeError);
    clock.set('2025-01-01T00:00:00Z');
    expect(clock.now().toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(() => clock.set('soon')).toThrow(RangeError);
    await expect(VirtualClock.load(dataDir, { now: 'yesterday' })).rejects.toThrow(RangeError);
  });
});
