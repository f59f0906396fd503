/**
 * JSON Schema (draft-07, as AsyncAPI 3.0 embeds it) of a message payload, from whatever Standard
 * Schema validator defined it. Lives on the CDK/CLI side so that no converter reaches a Lambda bundle.
 */
import type { StandardJSONSchemaV1 } from '@standard-schema/spec';
import { toJSONSchema } from 'zod/v4/core';
import type { MessageDefinition } from '../../lambdas/core/definition';
import { ConfigurationError } from '../../lambdas/core/errors';

/** A message schema whose validator cannot produce JSON Schema: a misconfiguration, found at synth. */
export class PayloadSchemaNotConvertibleError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadSchemaNotConvertibleError';
  }
}

function standardJsonSchema(schema: unknown): StandardJSONSchemaV1.Converter | undefined {
  const props = (schema as Partial<StandardJSONSchemaV1>)['~standard'];
  const converter = props?.jsonSchema;
  return typeof converter?.output === 'function' ? converter : undefined;
}

/**
 * The payload's JSON Schema, draft-07. Throws PayloadSchemaNotConvertibleError, naming the type and
 * the validators that can, when the schema's validator cannot convert.
 *
 * @example
 * payloadJsonSchema(OrderPlaced); // { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', ... }
 */
export function payloadJsonSchema(definition: MessageDefinition): Record<string, unknown> {
  // Validators that implement Standard JSON Schema (zod 4 classic, arktype, valibot wrapped in
  // `toStandardJsonSchema`) convert themselves.
  const converter = standardJsonSchema(definition.schema);
  if (converter) return converter.output({ target: 'draft-07' });
  // zod/mini schemas leave the converter out to stay small; zod's own core converter reads them.
  if (definition.schema['~standard'].vendor === 'zod') {
    return toJSONSchema(definition.schema as never, { target: 'draft-07' }) as Record<string, unknown>;
  }
  throw new PayloadSchemaNotConvertibleError(
    `The schema of ${definition.type} (validator "${definition.schema['~standard'].vendor}") cannot produce ` +
      'JSON Schema, which the AsyncAPI document needs. Use a validator that implements Standard JSON Schema ' +
      '(https://standardschema.dev): zod 4 or zod/mini, arktype, or valibot wrapped in toStandardJsonSchema ' +
      'from @valibot/to-json-schema.',
  );
}
