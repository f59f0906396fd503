/**
 * The gateway's reading of S3 requests: path-style (what the SDK sends to an IP endpoint such as the
 * local cloud's) and virtual-hosted style, the IAM action and object ARN each needs, and a bucket's
 * TLS-only deny evaluated the way the gateway evaluates SQS/SNS ones (local loopback counts as TLS).
 */
import { Authorizer } from '../local/iam/authorizer';
import type { Caller } from '../local/iam/policy-document';
import { parseRequest, requiredActions } from '../local/iam/requests';
import { SecurityModel } from '../local/iam/security-model';

const auth = (service: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261130/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
});
const names = { region: 'us-east-1', accountId: '000000000000', streamOfIterator: () => undefined };
const checksOf = (method: string, url: string, host = '127.0.0.1:4566', extra: Record<string, string> = {}) =>
  requiredActions(parseRequest({ ...auth('s3'), host, ...extra }, '', method, url), names);

describe('S3 requests at the gateway', () => {
  test('path-style object requests need the object action on arn:aws:s3:::bucket/key', () => {
    expect(checksOf('PUT', '/claims/orders/01a2-id?x-id=PutObject')).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::claims/orders/01a2-id' },
    ]);
    expect(checksOf('GET', '/claims/orders/01a2-id?x-id=GetObject')).toEqual([
      { action: 's3:GetObject', resource: 'arn:aws:s3:::claims/orders/01a2-id' },
    ]);
    expect(checksOf('HEAD', '/claims/orders/a%2Fb')).toEqual([
      { action: 's3:GetObject', resource: 'arn:aws:s3:::claims/orders/a/b' },
    ]);
    expect(checksOf('DELETE', '/claims/k')).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::claims/k' },
    ]);
  });

  test('a copy needs s3:GetObject on its source object as well as s3:PutObject on the copy (review)', () => {
    const copy = { 'x-amz-copy-source': '/payroll/2026/salaries%20Q1.json?versionId=v1' };
    expect(checksOf('PUT', '/claims/stolen', '127.0.0.1:4566', copy)).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::claims/stolen' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::payroll/2026/salaries Q1.json' },
    ]);
    // UploadPartCopy reads its source the same way.
    expect(
      checksOf('PUT', '/claims/big?partNumber=1&uploadId=u', '127.0.0.1:4566', {
        'x-amz-copy-source': 'payroll/all',
      }),
    ).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::claims/big' },
      { action: 's3:GetObject', resource: 'arn:aws:s3:::payroll/all' },
    ]);
  });

  test('a multi-object delete needs s3:DeleteObject on each key it names, as in AWS (review)', () => {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Object><Key>claims/a</Key></Object><Object><Key>claims/b&amp;c</Key></Object><Quiet>true</Quiet></Delete>';
    const checks = requiredActions(
      parseRequest({ ...auth('s3'), host: '127.0.0.1:4566' }, body, 'POST', '/bucket?delete'),
      names,
    );
    expect(checks).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::bucket/claims/a' },
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::bucket/claims/b&c' },
    ]);
  });

  test('bucket requests need the bucket action on the bucket ARN', () => {
    expect(checksOf('PUT', '/claims')).toEqual([
      { action: 's3:CreateBucket', resource: 'arn:aws:s3:::claims' },
    ]);
    expect(checksOf('GET', '/claims?list-type=2')).toEqual([
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::claims' },
    ]);
    expect(checksOf('GET', '/')).toEqual([{ action: 's3:ListAllMyBuckets', resource: '*' }]);
  });

  test('virtual-hosted style takes the bucket from the Host header', () => {
    expect(checksOf('PUT', '/orders/id-1', 'claims.s3.localhost.fauxqs.dev:4566')).toEqual([
      { action: 's3:PutObject', resource: 'arn:aws:s3:::claims/orders/id-1' },
    ]);
    expect(checksOf('GET', '/orders/id-1', 'claims.localhost:4566')).toEqual([
      { action: 's3:GetObject', resource: 'arn:aws:s3:::claims/orders/id-1' },
    ]);
    // A service host without a bucket label stays path-style.
    expect(checksOf('GET', '/claims/orders/id-1', 's3.localhost.fauxqs.dev:4566')).toEqual([
      { action: 's3:GetObject', resource: 'arn:aws:s3:::claims/orders/id-1' },
    ]);
  });

  test('the bucket policy applies to its objects; its TLS-only deny does not deny local calls', () => {
    const model = new SecurityModel('000000000000');
    const ctx = {
      stack: { stackName: 'S' },
      logicalId: 'ClaimsBucketPolicy',
      type: 'AWS::S3::BucketPolicy',
      region: 'us-east-1',
      accountId: '000000000000',
    } as never;
    model.define(ctx, {
      Bucket: 'claims',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: ['arn:aws:s3:::claims', 'arn:aws:s3:::claims/*'],
          },
        ],
      },
    });
    const roleArn = 'arn:aws:iam::000000000000:role/producer';
    model.roles.set(roleArn, {
      arn: roleArn,
      name: 'producer',
      policies: [
        {
          source: 'identity policy of producer',
          document: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::claims/orders/*' },
            ],
          },
        },
      ],
    });
    const caller: Caller = {
      kind: 'role',
      roleArn,
      sessionArn: 'arn:aws:sts::000000000000:assumed-role/producer/s',
      accountId: '000000000000',
    };
    const authorizer = new Authorizer(() => undefined);
    const decide = (action: string, resource: string, secure: string) =>
      authorizer.decide(
        { caller, action, resource, context: new Map([['aws:securetransport', secure]]) },
        model.policiesFor(roleArn, resource),
      );
    expect(decide('s3:PutObject', 'arn:aws:s3:::claims/orders/1', 'true')).toEqual({ allowed: true });
    // The same call without TLS is denied by the bucket policy: the policy is found through the object ARN.
    expect(decide('s3:PutObject', 'arn:aws:s3:::claims/orders/1', 'false')).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('bucket policy ClaimsBucketPolicy'),
    });
    // Outside the granted prefix: no identity policy allows it.
    expect(decide('s3:PutObject', 'arn:aws:s3:::claims/other/1', 'true')).toMatchObject({ allowed: false });
  });
});
