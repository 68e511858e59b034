export * from './aging';
export * from './csv';
