// The relay's seam: one flow index — client transport address on one public address →
// transceiver — behind which either datapath keeps its table. The JS datapath's is a FlowTable
// (flow-table.ts) of JsFlow objects it forwards from; the native datapath's is the addon's own
// table (native-flow-index.ts), the only copy on that datapath: what route.ts and the worker
// need of it (lookups of first packets, inserts, idle expiry, store refresh, the size) are
// explicit calls into the addon, and a flow they get back is a FlowView snapshot.
// Time is a parameter (the worker's coarse clock, ms); no timers here.
import type { IpFamily, TransportAddress } from '../core/address.ts';

/** What the control side knows of a flow, whichever index holds it. */
export interface FlowView {
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly clientFamily: IpFamily;
  /** Index of the public (listen) address the client uses. */
  readonly publicIndex: number;
  readonly destAddress: string;
  readonly destPort: number;
  /** The routing token that authorized this flow; what the flow store keeps. */
  readonly ufrag: string;
  /** Last packet from the client (ms, the worker's coarse clock). */
  readonly lastSeen: number;
  /** The transceiver has sent to the client on this flow (its reply path confirmed the address). */
  readonly confirmed: boolean;
}

/** A flow to add: route.ts has opened its token and checked its destination. */
export interface NewFlow {
  readonly client: TransportAddress;
  readonly publicIndex: number;
  /** The public address at publicIndex (what the relay header names). */
  readonly public: TransportAddress;
  readonly dest: TransportAddress;
  readonly ufrag: string;
  /** A flow recovered from the store was a real flow of some relay; a new one waits for the reply path. */
  readonly confirmed: boolean;
}

export type InsertResult<F> = { readonly kind: 'added' | 'replaced'; readonly flow: F } | { readonly kind: 'full' };

export interface FlowIndex<F extends FlowView> {
  /** The hard cap: insert answers 'full' at it (a replacement still succeeds). */
  readonly maxFlows: number;
  /** Flows in the table now. */
  readonly size: number;
  /** The flow of datagrams from address:port on public address `publicIndex`. */
  get(address: string, port: number, publicIndex: number): F | undefined;
  /**
   * Adds a flow, or replaces the flow of the same client address on that public address. Its
   * last-seen and last-stored times are `now`: every insert is either written to the store at
   * once (a new flow) or came from it (recovery, bulk load).
   */
  insert(flow: NewFlow, now: number): InsertResult<F>;
  /** The control side forwarded a datagram of this flow (a STUN check from a known address). */
  touch(flow: F, now: number): void;
  /** Removes the flow of this client address on this public address; false when there is none. */
  remove(flow: FlowView): boolean;
  /**
   * One pass over the table: removes flows idle for the index's idle timeout (returns how
   * many), and hands `due` each flow that had traffic since its last store write, at least
   * `refreshMs` ago, marking it written now.
   */
  sweep(now: number, refreshMs: number, due: (flow: FlowView) => void): number;
}
