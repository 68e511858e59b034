import { readFile } from 'node:fs/promises';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/** The account and region of every local ARN (never a real one). */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** An ARN that looks like a deployed Lambda function; the local runner never invokes it. */
export const localLambdaArn = (functionName: string): string =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`;

export const localExecutionArn = (stateMachineName: string, executionName: string): string =>
  `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:${stateMachineName}:${executionName}`;

/**
 * Reads an ASL file and fills its `${Placeholders}` exactly as the CDK's `definitionSubstitutions`
 * would. A placeholder without a value, or a value without a placeholder, is an error: either
 * means the file and its substitutions have drifted apart.
 */
export const loadAslDefinition = async (
  file: URL | string,
  substitutions: Readonly<Record<string, string>>,
): Promise<StateMachineDefinition> => {
  const text = await readFile(file, 'utf8');
  const used = new Set<string>();
  const filled = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
    const value = substitutions[name];
    if (value === undefined) throw new Error(`${String(file)}: no substitution for \${${name}}`);
    used.add(name);
    // The value lands inside a JSON string.
    return JSON.stringify(value).slice(1, -1);
  });
  const unused = Object.keys(substitutions).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`${String(file)}: substitutions never used: ${unused.join(', ')}`);
  return JSON.parse(filled) as StateMachineDefinition;
};
