export * from './account';
export * from './balances';
