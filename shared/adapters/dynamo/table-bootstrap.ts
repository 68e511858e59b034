/**
 * Creates the tables of `shared/tables.ts` where nobody else does (DynamoDB Local, a test
 * account). On AWS the CDK stack builds the same tables from the same definitions.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { accountsTable, auditTable, type TableDefinition } from '../../tables';

export interface TableNames {
  accounts: string;
  audit: string;
}

export interface CreateTablesOptions {
  /** How long to wait for the tables and their indexes to become ACTIVE (default 5 minutes). */
  timeoutMs?: number;
  /** Pause between two DescribeTable calls while waiting (default 500 ms). */
  pollMs?: number;
}

/** An existing table with the wanted name whose keys or indexes differ from the definition. */
export class TableMismatchError extends Error {
  override readonly name = 'TableMismatchError';
}

/**
 * Creates both tables (on-demand billing, with their GSIs) unless they exist, then waits until
 * they and their indexes are ACTIVE. Safe to call on every start.
 * @throws TableMismatchError when a table exists with other keys or without an index: data
 * written by an older layout would be read wrongly, so it is refused rather than used.
 */
export const createTables = async (
  client: DynamoDBClient,
  names: TableNames,
  options: CreateTablesOptions = {},
): Promise<void> => {
  const wanted: [string, TableDefinition][] = [
    [names.accounts, accountsTable],
    [names.audit, auditTable],
  ];
  for (const [name, definition] of wanted) await createIfMissing(client, name, definition);
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  for (const [name, definition] of wanted) {
    const table = await waitUntilActive(client, name, deadline, options.pollMs ?? 500);
    checkLayout(name, definition, table);
  }
};

const createIfMissing = async (client: DynamoDBClient, name: string, definition: TableDefinition) => {
  const attributes = new Map<string, AttributeDefinition>();
  for (const key of [
    definition.partitionKey,
    definition.sortKey,
    ...definition.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ]) {
    attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes.values()],
        KeySchema: [
          { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: definition.sortKey.name, KeyType: 'RANGE' },
        ],
        ...(definition.globalSecondaryIndexes.length > 0
          ? {
              GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
                IndexName: index.indexName,
                KeySchema: [
                  { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
                  { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: index.projection },
              })),
            }
          : {}),
      }),
    );
  } catch (error) {
    // Another process (or an earlier start on the same dbPath) created it: that is the goal.
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
};

const waitUntilActive = async (
  client: DynamoDBClient,
  name: string,
  deadline: number,
  pollMs: number,
): Promise<TableDescription> => {
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    const active =
      Table?.TableStatus === 'ACTIVE' &&
      (Table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    if (active && Table) return Table;
    if (Date.now() > deadline) {
      throw new Error(`table ${name} is not ACTIVE in time (status ${Table?.TableStatus ?? 'unknown'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
};

const keyNames = (schema: { AttributeName?: string; KeyType?: string }[] | undefined) =>
  (schema ?? []).map((key) => `${key.KeyType}:${key.AttributeName}`).join(',');

const checkLayout = (name: string, definition: TableDefinition, table: TableDescription) => {
  const problems: string[] = [];
  const wantedKeys = `HASH:${definition.partitionKey.name},RANGE:${definition.sortKey.name}`;
  if (keyNames(table.KeySchema) !== wantedKeys) {
    problems.push(`keys are ${keyNames(table.KeySchema)}, expected ${wantedKeys}`);
  }
  for (const index of definition.globalSecondaryIndexes) {
    const found = table.GlobalSecondaryIndexes?.find((candidate) => candidate.IndexName === index.indexName);
    const wanted = `HASH:${index.partitionKey.name},RANGE:${index.sortKey.name}`;
    if (!found) problems.push(`index ${index.indexName} is missing`);
    else if (keyNames(found.KeySchema) !== wanted) {
      problems.push(`index ${index.indexName} has keys ${keyNames(found.KeySchema)}, expected ${wanted}`);
    }
  }
  if (problems.length > 0) {
    throw new TableMismatchError(
      `table ${name} exists but does not match shared/tables.ts (${problems.join('; ')}); ` +
        'delete it (or the local data directory) and start again',
    );
  }
};
