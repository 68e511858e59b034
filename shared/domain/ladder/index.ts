export * from './cycle';
export * from './decision';
export * from './policy';
export * from './template';
