import type { ChangeEvent, IngestTaker } from '../contract.ts';
import type { Sealer } from '../sealing.ts';
import type { DeliveryTransitions } from './delivery-transitions.ts';
import type { SqlDriver, SqlExecutor, TransactionOptions } from './driver.ts';

export const CHANGES_CHANNEL = 'hookyard_changes';
export const WORK_CHANNEL = 'hookyard_work';

/** What every store shares: the driver and the two notification paths. */
export interface SqlContext {
  readonly driver: SqlDriver;
  /** Encrypts and decrypts the endpoint columns kept encrypted at rest (rows.ts, sealing.ts). */
  readonly sealer: Sealer;
  /** Every write of a delivery's state goes through these (delivery-transitions.ts). */
  readonly transitions: DeliveryTransitions;
  /**
   * Runs `fn` in a transaction. Change events it publishes travel with the commit (NOTIFY is
   * transactional) and reach this process's listeners only once the commit returned, so a cache never
   * reloads a row that is not yet visible.
   */
  mutate<T>(
    fn: (tx: SqlExecutor, publish: (event: ChangeEvent) => void) => Promise<T>,
    options?: TransactionOptions,
  ): Promise<T>;
  /** Inside a transaction that made work due: tells other processes on commit (coalesced per transaction). */
  announceWork(tx: SqlExecutor): Promise<void>;
  /** After such a commit: wakes this process's dispatchers. */
  wakeLocal(): void;
  /**
   * The same two for ordered destinations (fifoEndpoint), which only the ordered loop listens to, so
   * their work never wakes the claim loop and theirs never wakes it.
   */
  announceOrderedWork(tx: SqlExecutor): Promise<void>;
  wakeOrderedLocal(): void;
  /**
   * Runs `fn` in a (durable) transaction that may make deliveries due; when it changed any rows
   * (`changed`), every dispatcher hears of it, in other processes on commit and here after it.
   */
  makeDue<T>(fn: (tx: SqlExecutor) => Promise<{ changed: number; value: T }>): Promise<T>;
  /** The dispatcher in this process that ingest hands new deliveries to, if one registered. */
  ingestTaker(): IngestTaker | undefined;
  readonly groupCommit: {
    readonly windowMs: number;
    readonly maxBatch: number;
    readonly maxInFlight: number;
  };
}
