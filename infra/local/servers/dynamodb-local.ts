/**
 * Runs the real DynamoDB Local (the jar inside `amplify-dynamodb-simulator`) for the local
 * runtime and the local tests.
 *
 * The JVM is started through a small Node watchdog that holds a pipe from this process: when
 * this process ends in any way (normal exit, crash, SIGKILL of a test worker), the pipe closes
 * and the watchdog kills the JVM, so no orphan JVM keeps a port and a core busy.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { DynamoDBClient, type DynamoDBClientConfig, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocalOptions {
  /** Directory of the database files; in memory (gone on stop) when absent. */
  dbPath?: string;
  /** Port to listen on; a free one when absent. */
  port?: number;
  /** The Java executable (default `java`, looked up on the PATH of `env`). */
  javaBinary?: string;
  /** Environment in which Java is looked up and run (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first answer to ListTables (default 60 s). */
  startupTimeoutMs?: number;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** Stops the JVM and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** Java is missing or too old to run DynamoDB Local. */
export class JavaUnavailableError extends Error {
  override readonly name = 'JavaUnavailableError';
}

/** DynamoDB Local exited or did not answer while starting. */
export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';
}

export const MIN_JAVA_VERSION = 17;

/**
 * The `writeConcurrency` of a store on DynamoDB Local. It runs transactions one after another,
 * so beyond two in flight (one running while the client prepares the next) more only add
 * contention. A 40,000-row ingest on a quiet machine: 1,023 rows/s with 1 in flight, 1,262
 * with 2, 1,174 with 4, 1,115 with 12.
 */
export const DYNAMODB_LOCAL_TRANSACTIONS_IN_FLIGHT = 2;
const INSTALL_HINT =
  "install it with `apt-get install openjdk-17-jre-headless` (Debian/Ubuntu) or your platform's JDK 17, then retry";

/**
 * Client settings for a DynamoDB Local endpoint. The server runs with `-sharedDb`, so region and
 * credentials are placeholders that only have to be well-formed.
 */
export const localDynamoDbClientConfig = (endpoint: string): DynamoDBClientConfig => ({
  endpoint,
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

/** Folder of DynamoDBLocal.jar; the jar must run with it as working directory (native SQLite libs). */
export const dynamoDbLocalDirectory = (): string =>
  join(
    dirname(createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json')),
    'emulator',
  );

/** Reads the major version from `java -version` output (`"1.8.0_292"` is 8, `"17.0.15"` is 17). */
export const parseJavaMajorVersion = (output: string): number | undefined => {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
};

const checkJava = (java: string, env: NodeJS.ProcessEnv): Promise<void> =>
  new Promise((resolvePromise, reject) => {
    execFile(java, ['-version'], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(
          new JavaUnavailableError(
            `Java ${MIN_JAVA_VERSION}+ is required for DynamoDB Local, but \`${java}\` was not found: ${INSTALL_HINT}`,
          ),
        );
        return;
      }
      const version = parseJavaMajorVersion(`${stderr}\n${stdout}`);
      if (error || version === undefined) {
        reject(
          new JavaUnavailableError(
            `Java ${MIN_JAVA_VERSION}+ is required for DynamoDB Local, but \`${java} -version\` failed ` +
              `(${(error?.message ?? stderr).trim()}): ${INSTALL_HINT}`,
          ),
        );
        return;
      }
      if (version < MIN_JAVA_VERSION) {
        reject(
          new JavaUnavailableError(
            `Java ${MIN_JAVA_VERSION}+ is required for DynamoDB Local, but \`${java}\` is Java ${version}: ${INSTALL_HINT}`,
          ),
        );
        return;
      }
      resolvePromise();
    });
  });

const freePort = (): Promise<number> =>
  new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePromise(address.port)
          : reject(new Error('no free port')),
      );
    });
  });

/**
 * Runs a command and kills it when this watchdog's stdin closes (its parent died or stopped it)
 * or when the watchdog gets a termination signal; exits with the command's status.
 */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const [command, ...args] = process.argv.slice(1);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), 5000).unref();
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, stop);
child.on('error', (error) => { process.stderr.write(error.message + '\\n'); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
`;

const OUTPUT_LIMIT = 8_000;

/**
 * Starts DynamoDB Local and resolves once it answers ListTables.
 * @throws JavaUnavailableError when Java is missing or older than 17.
 * @throws DynamoDbLocalStartError when the server exits or stays silent while starting.
 */
export const startDynamoDbLocal = async (options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> => {
  const env = options.env ?? process.env;
  // The JVM runs in the jar's folder, so a relative path to Java is made absolute here.
  const java = options.javaBinary?.includes('/')
    ? resolve(options.javaBinary)
    : (options.javaBinary ?? 'java');
  await checkJava(java, env);
  const dbPath = options.dbPath === undefined ? undefined : resolve(options.dbPath);
  if (dbPath) await mkdir(dbPath, { recursive: true });
  // A port picked by us can be taken by someone else before the JVM binds it: pick again.
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch({ java, env, port, dbPath, timeoutMs: options.startupTimeoutMs ?? 60_000 });
    } catch (error) {
      const portTaken =
        error instanceof DynamoDbLocalStartError && /address already in use/i.test(error.message);
      if (!portTaken || attempt >= attempts) throw error;
    }
  }
};

const launch = async (settings: {
  java: string;
  env: NodeJS.ProcessEnv;
  port: number;
  dbPath: string | undefined;
  timeoutMs: number;
}): Promise<DynamoDbLocal> => {
  const { java, env, port, dbPath, timeoutMs } = settings;
  const javaArgs = [
    '-Djava.library.path=./DynamoDBLocal_lib',
    '-jar',
    'DynamoDBLocal.jar',
    '-port',
    String(port),
    ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']),
    // One database whatever the client's region and credentials; no telemetry from a test machine.
    '-sharedDb',
    '-disableTelemetry',
  ];
  const child = spawn(process.execPath, ['-e', WATCHDOG, '--', java, ...javaArgs], {
    cwd: dynamoDbLocalDirectory(),
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const killOnExit = () => child.kill('SIGTERM');
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      child.stdin?.destroy();
    })();
    return stopped;
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, exited, timeoutMs, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, stop };
};

const waitUntilReady = async (
  endpoint: string,
  child: ChildProcess,
  exited: Promise<void>,
  timeoutMs: number,
  output: () => string,
): Promise<void> => {
  const client = new DynamoDBClient({ ...localDynamoDbClientConfig(endpoint), maxAttempts: 1 });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (gone) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local exited while starting (status ${child.exitCode ?? child.signalCode}): ${output().trim()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        throw new DynamoDbLocalStartError(
          `DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms: ${output().trim()}`,
        );
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 150));
    }
  } finally {
    client.destroy();
  }
};
