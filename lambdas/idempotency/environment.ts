/** Environment variables that `ProcessedMessagesTable.bindTo` sets and the decorators read (no imports: the CDK side uses them too). */

/** Name of the processed-messages table. */
export const PROCESSED_MESSAGES_TABLE_ENV = 'SWITCHYARD_PROCESSED_MESSAGES_TABLE';
/** Lifetime of a processed-message record, in seconds (the table's retention). */
export const PROCESSED_MESSAGES_TTL_ENV = 'SWITCHYARD_PROCESSED_MESSAGES_TTL_SECONDS';
