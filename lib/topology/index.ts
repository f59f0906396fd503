/** Topology model of a Switchyard app and what is generated from it (AsyncAPI, diagram). */

export * from './assembly';
export * from './asyncapi';
export * from './diagram';
export * from './drift';
export * from './extract';
export * from './model';
export * from './record';
