/**
 * HttpCommandEndpoint: a ServiceFunction behind a Lambda function URL, for commands that answer at
 * once with a status reference (finish processing after returning a response). IAM auth by
 * default: callers sign with SigV4 (`curl --aws-sigv4`); NONE must be asked for explicitly.
 */
import { CfnOutput } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ServiceFunction, type ServiceFunctionProps } from './service-function';

export interface HttpCommandEndpointProps extends ServiceFunctionProps {
  /**
   * Who may call the URL. NONE makes it public: the handler must authenticate itself.
   * @default lambda.FunctionUrlAuthType.AWS_IAM
   */
  readonly authType?: lambda.FunctionUrlAuthType;
  /**
   * Name of a stack output holding the URL.
   * @default - no output
   */
  readonly outputName?: string;
}

/**
 * @example
 * const api = new HttpCommandEndpoint(this, 'OrderApi', { entry: 'functions/order-api.ts', outputName: 'OrderApiUrl' });
 * orderOutbox.grantWrite(api.function);
 */
export class HttpCommandEndpoint extends Construct {
  readonly service: ServiceFunction;
  readonly function: lambda.Function;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: HttpCommandEndpointProps) {
    super(scope, id);
    const { authType, outputName, ...functionProps } = props;
    this.service = new ServiceFunction(this, 'Handler', functionProps);
    this.function = this.service.function;
    this.url = this.function.addFunctionUrl({ authType: authType ?? lambda.FunctionUrlAuthType.AWS_IAM });
    if (outputName) new CfnOutput(this, 'Url', { value: this.url.url }).overrideLogicalId(outputName);
  }
}
