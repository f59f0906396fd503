/** The parts of a synthesized CloudFormation template that the local cloud reads. */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnOutput {
  readonly Value: unknown;
  readonly Description?: string;
  readonly Condition?: string;
  readonly Export?: { readonly Name: unknown };
}

export interface CfnParameter {
  readonly Type: string;
  readonly Default?: unknown;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, CfnOutput>;
  readonly Parameters?: Record<string, CfnParameter>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

/** One stack of a cloud assembly, ready to deploy locally. */
export interface AssemblyStack {
  readonly stackName: string;
  /** Construct path of the stack, e.g. `SwitchyardFoodDelivery`. */
  readonly displayName: string;
  readonly template: CfnTemplate;
  /** The cloud assembly directory (where `asset.<hash>` folders live). */
  readonly assemblyDir: string;
  /** S3 object key -> local asset path, from the stack's `*.assets.json`. */
  readonly fileAssets: ReadonlyMap<string, string>;
}

/** Values the pseudo parameters resolve to. */
export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
}
