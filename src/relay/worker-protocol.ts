// The messages between the relay supervisor (main thread) and its worker threads, and the
// worker's start-up data. Plain structured-clone data only.
import type { MessagePort } from 'node:worker_threads';
import type { TransportAddress } from '../core/address.ts';
import type { LogLevel } from '../common/log.ts';
import type { TcpListen } from './tcp/tcp-relay.ts';

export type WorkerStoreInit =
  | { readonly kind: 'memory'; readonly port: MessagePort }
  | {
      readonly kind: 'redis';
      readonly url: string;
      readonly prefix: string;
      /** Bound public address → the public address flow records are keyed by (`--listen A=B`), as HOST:PORT text. */
      readonly aliases?: readonly (readonly [string, string])[];
    };

export interface WorkerInit {
  readonly index: number;
  readonly publics: readonly TransportAddress[];
  readonly internal: TransportAddress;
  /** ICE-TCP listen addresses (--listen-tcp); only worker 0 gets them. */
  readonly listenTcp: readonly TcpListen[];
  readonly reusePort: boolean;
  /** 'native': the addon's loop (datapath-native.ts); 'js': NodeDatapath. */
  readonly datapath: 'js' | 'native';
  /** Keyring text (secret): passed in memory, never logged. */
  readonly keys: string;
  /** --transceiver-cidrs as text (CidrSet.parse reads it back). */
  readonly transceiverCidrs: string;
  readonly maxFlows: number;
  readonly idleMs: number;
  /** --unconfirmed-timeout in ms (token-flows.ts unconfirmedMs). */
  readonly unconfirmedMs: number;
  readonly newFlowRate: number;
  readonly newFlowBurst: number;
  /** The native datapath's loop decides the common first checks itself (docs/relay.md); default on. */
  readonly firstChecksInLoop?: boolean;
  readonly storeLookupRate: number;
  readonly store: WorkerStoreInit;
  readonly stats: SharedArrayBuffer;
  readonly logLevel: LogLevel;
  readonly socketBufferBytes: number;
  /** How long start-up waits for the store before serving without the bulk load. */
  readonly storeWaitMs: number;
}

export type WorkerMessage =
  | {
      readonly t: 'bound';
      readonly publics: TransportAddress[];
      readonly internal: TransportAddress;
      /** Worker 0 with --listen-tcp: the bound TCP addresses and the TCP side's internal UDP address. */
      readonly tcp?: { readonly publics: TransportAddress[]; readonly internal: TransportAddress };
      readonly tid: number | undefined;
      readonly nativeTids?: readonly number[];
    }
  | { readonly t: 'ready'; readonly loaded: number }
  | { readonly t: 'stopped' };

export type SupervisorMessage = { readonly t: 'stop' };
