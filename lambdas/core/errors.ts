/** Every error the runtime throws on purpose. Messages say what was wrong and how to fix it. */

export class SwitchyardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SwitchyardError';
  }
}

/** A message breaks an SNS/SQS limit (size, attribute count, attribute name). Thrown before sending. */
export class MessageLimitError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'MessageLimitError';
  }
}

/** A payload does not match the schema of its message type. */
export class MessageValidationError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'MessageValidationError';
  }
}

/** A received record cannot be turned into a Switchyard message (bad JSON, no type, unknown type). */
export class MessageParseError extends SwitchyardError {
  constructor(
    message: string,
    /** Machine-readable reason, logged and used as the DLQ reason. */
    readonly reason: string,
  ) {
    super(message);
    this.name = 'MessageParseError';
  }
}

/** Batch entries that still failed after the bounded retries. */
export class BatchSendError extends SwitchyardError {
  constructor(
    message: string,
    readonly failures: readonly { id: string; code: string; message: string; senderFault: boolean }[],
  ) {
    super(message);
    this.name = 'BatchSendError';
  }
}

/** The environment of a function lacks what the runtime needs (a channel ARN, a table name...). */
export class ConfigurationError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** A handler tried to reply to a message that has no reply-to header (a one-way notification). */
export class NoReplyExpectedError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'NoReplyExpectedError';
  }
}

/** `notify` was given a command that declares replies: its sender would wait for nothing. */
export class NotificationExpectsReplyError extends SwitchyardError {
  constructor(message: string) {
    super(message);
    this.name = 'NotificationExpectsReplyError';
  }
}
