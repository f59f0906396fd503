/** How often each fault strikes. One object for the workers and the mappings, so a run has one knob. */
export interface FaultRates {
  /** Chance that one SDK request attempt fails (throttle, 5xx, connection reset, transaction conflict). */
  readonly sdkCall: number;
  /** Chance that a TransactWriteItems attempt is cancelled with a TransactionConflict reason. */
  readonly transactionConflict: number;
  /** Chance that a PublishBatch / SendMessageBatch request has some of its entries failed. */
  readonly partialBatch: number;
  /** Chance per invocation that the handler throws (half before, half after its effects). */
  readonly handlerException: number;
  /** Chance per invocation that the handler finishes its work, then hangs until the function times out. */
  readonly functionTimeout: number;
  /** Chance per invocation that its worker dies right after its first applied write (process exit). */
  readonly workerKill: number;
  /** Chance per applied publish of the outbox relay that it dies before answering its checkpoint. */
  readonly relayKill: number;
  /**
   * Inject each kind at its first opportunity in the run (the first call or invocation it can hit
   * while its count is 0), then go by the rates: a short run injects every kind without raising
   * the rates, which would make it a different (harsher) run. @default false
   */
  readonly ensureEachKind?: boolean;
}

/** Rates of the committed runs: about 7% of SDK request attempts fail. */
export const DEFAULT_FAULT_RATES: FaultRates = {
  sdkCall: 0.07,
  transactionConflict: 0.05,
  partialBatch: 0.15,
  handlerException: 0.02,
  functionTimeout: 0.003,
  workerKill: 0.01,
  relayKill: 0.03,
};

/** The CI run: the full run's rates, and every kind injected at its first opportunity. */
export const CI_FAULT_RATES: FaultRates = { ...DEFAULT_FAULT_RATES, ensureEachKind: true };
