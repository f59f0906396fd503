/** Public API of the Switchyard runtime: message core, producer and consumer. */
export * from './consumer';
export * from './core';
export * from './producer';
export * from './styles';
