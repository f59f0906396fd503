/** Errors of the local event source mappings. Messages say what was wrong and how to fix it. */

/** A mapping configuration that AWS would reject, or that this emulation cannot honour. */
export class MappingConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingConfigError';
  }
}

/** A filter pattern uses syntax or an operator that is not supported. */
export class FilterPatternError extends MappingConfigError {
  constructor(message: string) {
    super(message);
    this.name = 'FilterPatternError';
  }
}
