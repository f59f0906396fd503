/**
 * The fault injector of a chaos run, as the local cloud takes it (`LocalCloudOptions.faults`):
 * one seed, one set of rates and one set of shared counters for the function workers and the
 * event source mappings' own clients.
 *
 * @example
 * const injector = new FaultInjector({ seed: 7, projectDir: process.cwd() });
 * const cloud = await LocalCloud.start({ faults: injector.hooks((fn) => /Relay/.test(fn.logicalId), 5) });
 * console.log(injector.counters.snapshot());
 */
import type { CloudFaultHooks } from '../cloud';
import type { LocalFunctionDefinition } from '../template/resources/lambda';
import { buildWorkerPreload } from './build-preload';
import { FaultCounters } from './counters';
import { randomStream } from './random';
import { DEFAULT_FAULT_RATES, type FaultRates } from './rates';
import { addFaultMiddleware, type StackOwner } from './sdk-faults';
import type { WorkerFaultData } from './worker-preload';

export interface FaultInjectorOptions {
  readonly seed: number;
  readonly projectDir: string;
  /** @default DEFAULT_FAULT_RATES */
  readonly rates?: FaultRates;
}

export class FaultInjector {
  readonly counters = new FaultCounters();
  readonly rates: FaultRates;
  private readonly workerSerial = new SharedArrayBuffer(4);
  private readonly preloadModule: string;

  constructor(private readonly options: FaultInjectorOptions) {
    this.rates = options.rates ?? DEFAULT_FAULT_RATES;
    this.preloadModule = buildWorkerPreload(options.projectDir);
  }

  /**
   * The hooks for LocalCloud. `isRelay` picks the outbox relay function(s): they die after a
   * publish (before the checkpoint) rather than after any write.
   */
  hooks(
    isRelay: (fn: LocalFunctionDefinition) => boolean,
    maxFunctionTimeoutSeconds: number,
  ): CloudFaultHooks {
    return {
      maxFunctionTimeoutSeconds,
      workerPreload: (fn) => {
        const data: WorkerFaultData = {
          seed: this.options.seed,
          rates: this.rates,
          counters: this.counters.buffer,
          workerSerial: this.workerSerial,
          role: isRelay(fn) ? 'relay' : 'function',
        };
        return { module: this.preloadModule, data };
      },
      decorateMappingClient: (client, mapping) => {
        const name = `${mapping}/${client.constructor.name}`;
        addFaultMiddleware(client as unknown as StackOwner, {
          random: randomStream(this.options.seed, name),
          counters: this.counters,
          rates: this.rates,
        });
      },
    };
  }
}
