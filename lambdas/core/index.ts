/** Public surface of the Switchyard message core. */
export * from './definition';
export * from './errors';
export * from './headers';
export * from './ids';
export * from './message';
export * from './wire';
