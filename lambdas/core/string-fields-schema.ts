/**
 * A hand-written Standard Schema (with Standard JSON Schema) for the runtime's own small messages:
 * an object of required non-empty strings. It keeps every validation library out of the runtime,
 * so a function bundle carries only the validator its own message definitions chose.
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';

export type StringFields<K extends string> = { readonly [P in K]: string };

export type StringFieldsSchema<K extends string> = StandardSchemaV1<StringFields<K>> &
  StandardJSONSchemaV1<StringFields<K>>;

/** An object whose `fields` are required non-empty strings; other properties are refused. */
export function stringFieldsSchema<K extends string>(...fields: readonly K[]): StringFieldsSchema<K> {
  const jsonSchema = (options: StandardJSONSchemaV1.Options) => {
    if (options.target !== 'draft-07' && options.target !== 'draft-2020-12') {
      throw new Error(
        `stringFieldsSchema produces JSON Schema draft-07 or draft-2020-12, not ${options.target}.`,
      );
    }
    return {
      $schema:
        options.target === 'draft-07'
          ? 'http://json-schema.org/draft-07/schema#'
          : 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: Object.fromEntries(fields.map((f) => [f, { type: 'string', minLength: 1 }])),
      required: [...fields],
      additionalProperties: false,
    };
  };
  const validate = (value: unknown): StandardSchemaV1.Result<StringFields<K>> => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { issues: [{ message: 'expected an object' }] };
    }
    const record = value as Record<string, unknown>;
    const issues: StandardSchemaV1.Issue[] = [];
    for (const field of fields) {
      const v = record[field];
      if (typeof v !== 'string' || v.length === 0)
        issues.push({ message: 'expected a non-empty string', path: [field] });
    }
    for (const key of Object.keys(record)) {
      if (!(fields as readonly string[]).includes(key))
        issues.push({ message: 'unknown property', path: [key] });
    }
    return issues.length > 0 ? { issues } : { value: record as StringFields<K> };
  };
  return {
    '~standard': {
      version: 1,
      vendor: 'switchyard',
      validate,
      jsonSchema: { input: jsonSchema, output: jsonSchema },
    },
  };
}
