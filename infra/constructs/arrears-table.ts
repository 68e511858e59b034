import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { KeyAttribute, TableDefinition } from '../../shared/tables';
import type { TableAccess } from '../functions';

const attribute = (key: KeyAttribute) => ({
  name: key.name,
  type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER,
});

const READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];

/**
 * The IAM actions of each access level. `append` has PutItem but neither UpdateItem nor DeleteItem:
 * TransactWriteItems needs PutItem (and ConditionCheckItem) on every table it touches, and nothing
 * more for a Put, so the audit table takes part in the same transaction as the account change while
 * no function can rewrite or remove an entry.
 */
export const TABLE_ACTIONS: Record<TableAccess, readonly string[]> = {
  read: READ_ACTIONS,
  append: [...READ_ACTIONS, 'dynamodb:PutItem'],
  readWrite: [
    ...READ_ACTIONS,
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
};

/**
 * A DynamoDB table built from its definition in shared/tables.ts (keys, indexes, projections), the
 * same definition the local runtime creates its tables from.
 */
export class ArrearsTable extends Construct {
  readonly table: Table;
  readonly definition: TableDefinition;

  constructor(scope: Construct, id: string, definition: TableDefinition) {
    super(scope, id);
    this.definition = definition;

    this.table = new Table(this, 'Table', {
      partitionKey: attribute(definition.partitionKey),
      sortKey: attribute(definition.sortKey),
      // Collections traffic is spiky (a morning scan, a file drop): on demand costs nothing when idle
      // and needs no capacity planning.
      billingMode: BillingMode.PAY_PER_REQUEST,
      // Restore to any second of the last 35 days: the answer to a bad deploy or a bad import.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (aws/dynamodb) rather than the default AWS owned key: every use of it is
      // in CloudTrail, which auditors of a ledger ask for, without a customer key's cost and policy.
      encryption: TableEncryption.AWS_MANAGED,
      // Ledger and audit trail must outlive the stack: a deleted stack or a replaced table keeps them.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of definition.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: index.projection === 'KEYS_ONLY' ? ProjectionType.KEYS_ONLY : ProjectionType.ALL,
      });
    }
  }

  /**
   * Grants one access level on the table and each of its indexes by name. Written out instead of
   * `grantReadWriteData` so the policy holds no `index/*` wildcard and no action it does not need.
   */
  grant(grantee: IGrantable, access: TableAccess): void {
    const indexArns = this.definition.globalSecondaryIndexes.map(
      (index) => `${this.table.tableArn}/index/${index.indexName}`,
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...TABLE_ACTIONS[access]],
        resources: [this.table.tableArn, ...indexArns],
      }),
    );
  }
}
