/**
 * The errors the local runner throws where Step Functions answers with an error of the same name
 * (`ExecutionAlreadyExists`, `InvalidName`, `ExecutionDoesNotExist` in @aws-sdk/client-sfn), so
 * code that checks `error.name` behaves the same locally and on AWS.
 */
export class ExecutionAlreadyExistsError extends Error {
  override readonly name = 'ExecutionAlreadyExists';
}

export class InvalidNameError extends Error {
  override readonly name = 'InvalidName';
}

export class ExecutionDoesNotExistError extends Error {
  override readonly name = 'ExecutionDoesNotExist';
}

/** A definition the local runner cannot run faithfully (for instance a Task without a binding). */
export class UnsupportedDefinitionError extends Error {
  override readonly name = 'UnsupportedDefinitionError';
}
