/** Errors of the local cloud: each message says what was wrong and how to fix it. */

export class LocalCloudError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalCloudError';
  }
}

/** The CDK app could not be synthesized or its cloud assembly read. */
export class SynthError extends LocalCloudError {
  constructor(message: string) {
    super(message);
    this.name = 'SynthError';
  }
}

/** A template value the resolver cannot turn into a local value. */
export class TemplateResolutionError extends LocalCloudError {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateResolutionError';
  }
}

/** A supported resource could not be created in the emulators. */
export class DeployError extends LocalCloudError {
  constructor(
    readonly logicalId: string,
    readonly resourceType: string,
    cause: unknown,
  ) {
    super(
      `Creating ${logicalId} (${resourceType}) failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'DeployError';
  }
}

/** `switchyard invoke` named a function the app does not have. */
export class UnknownFunctionError extends LocalCloudError {
  constructor(query: string, available: readonly string[], ambiguous = false) {
    super(
      `${ambiguous ? `"${query}" matches several functions` : `No function matches "${query}"`}. ` +
        'Name one by logical id, construct path fragment or physical name. ' +
        `Available:\n${available.map((a) => `  - ${a}`).join('\n') || '  (the app has no functions)'}`,
    );
    this.name = 'UnknownFunctionError';
  }
}

/** The `--event` file is missing or not JSON. */
export class EventFileError extends LocalCloudError {
  constructor(path: string, detail: string) {
    super(`Cannot read the event file ${path}: ${detail}. Pass a JSON file, e.g. --event events/sqs.json.`);
    this.name = 'EventFileError';
  }
}
