import { Logger } from '@aws-lambda-powertools/logger';

/** One structured logger per function, named like the function folder. */
export const createLogger = (serviceName: string, logLevel = 'INFO'): Logger =>
  new Logger({ serviceName, logLevel: logLevel as 'INFO' });
