/** Public surface of the interaction styles: notification, gatherer, request client, HTTP commands. */
export * from './errors';
export * from './gatherer';
export * from './http';
export * from './notify';
export * from './pending-requests';
