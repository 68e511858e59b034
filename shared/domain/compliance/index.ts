export * from './contact-window';
export * from './profile';
