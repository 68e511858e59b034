export * from './errors';
export * from './event';
export * from './gocardless';
export * from './providers';
export * from './signature';
export * from './stripe';
