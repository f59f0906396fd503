/** The one place where a detected duplicate turns into an acknowledgement (and a log line). */
import type { MessageHandler } from '../consumer/types';
import { DuplicateMessageError } from './errors';

/**
 * Runs `inner`; a `DuplicateMessageError` it throws is logged and swallowed, so the consumer
 * acknowledges the record. Every other error propagates (the record fails and is redelivered).
 */
export function acknowledgingDuplicates<P>(mode: string, inner: MessageHandler<P>): MessageHandler<P> {
  return async (message, context) => {
    try {
      await inner(message, context);
    } catch (error) {
      if (!(error instanceof DuplicateMessageError)) throw error;
      context.logger.info('duplicate message acknowledged', {
        consumer: error.consumerName,
        messageId: error.messageId,
        mode,
      });
    }
  };
}
