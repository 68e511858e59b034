export * from './apply-payment';
export * from './payment-record';
export * from './review';
