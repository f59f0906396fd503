/**
 * AWS::S3::Bucket -> CreateBucket in fauxqs (claim-check payloads). fauxqs stores objects in memory
 * and has no bucket configuration API, so encryption, public access blocks, ownership controls and
 * lifecycle rules are recorded, not enforced: a claim never expires locally (a local run is short).
 * Access is enforced: the gateway authorizes every S3 call against roles and the bucket policy.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { NAME_LIMITS, physicalName } from '../names';
import { asString, checkProperties, type DeployedResource, type ResourceContext } from './context';

/** S3 bucket names: 3-63 characters, lower case letters, digits, dots and hyphens. */
function bucketName(ctx: ResourceContext): string {
  const base = physicalName(ctx.stack.stackName, ctx.logicalId, NAME_LIMITS.bucket)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return base.length >= 3 ? base : `${base}-bucket`;
}

export async function createBucket(
  ctx: ResourceContext,
  props: Record<string, unknown>,
): Promise<DeployedResource> {
  checkProperties(
    ctx,
    props,
    ['BucketName', 'Tags'],
    [
      // Recorded, not enforced by fauxqs (see the module comment and README, "Claim check").
      'BucketEncryption',
      'PublicAccessBlockConfiguration',
      'OwnershipControls',
      'LifecycleConfiguration',
      'LoggingConfiguration',
    ],
  );
  const versioning = (props.VersioningConfiguration as { Status?: string } | undefined)?.Status;
  if (versioning === 'Enabled')
    ctx.warn(
      `${ctx.logicalId} (AWS::S3::Bucket) versioning is not emulated: overwritten objects keep no versions.`,
    );
  const name = props.BucketName !== undefined ? asString(props.BucketName, 'BucketName') : bucketName(ctx);
  const s3 = ctx.clients.s3;
  if (!s3) throw new Error('Deploying an AWS::S3::Bucket needs an S3 client in the deploy clients.');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  const arn = `arn:aws:s3:::${name}`;
  return {
    logicalId: ctx.logicalId,
    type: ctx.type,
    physicalName: name,
    ref: name,
    attributes: {
      Arn: arn,
      DomainName: `${name}.s3.amazonaws.com`,
      RegionalDomainName: `${name}.s3.${ctx.region}.amazonaws.com`,
      WebsiteURL: `http://${name}.s3-website-${ctx.region}.amazonaws.com`,
    },
  };
}
