// The relay's routing decisions as pure functions (no sockets, timers or clock: `now` is a
// parameter) over a flow index (flow-index.ts), whichever datapath holds it. The I/O shell
// (datapath + worker) only carries out what these return.
//
// Client → transceiver (routeFromClient):
//   known client address on that public address → forward on the flow (one lookup, no parsing);
//   unknown address → only a STUN Binding Request may create a flow: rate limit per source IP (/64),
//   peek USERNAME, open the token (the server ufrag), verify MESSAGE-INTEGRITY with the password
//   derived from it, check the destination is in the transceiver networks, refuse a revoked
//   token and one past its first-flow window that no relay holds a flow of (asking the store when
//   this worker holds none: 'ask_store'), make room under the per-token limits (token-flows.ts),
//   insert the flow (unconfirmed until the transceiver sends to the client).
//   Anything else from an unknown address that looks like media is handed back as 'lookup'
//   (the flow may be in the store: another worker or a previous relay process made it).
// Transceiver → client (routeFromTransceiver):
//   the source must be in the transceiver networks, the datagram must start with a relay header,
//   and a flow must exist for exactly (client, public address) whose destination is this
//   transceiver; that traffic confirms the flow. So neither a client nor a compromised
//   transceiver can make the relay send to an address that no verified token and no live flow
//   names (docs/relay.md, "Security").
import type { TransportAddress } from '../core/address.ts';
import { ipToBytes } from '../core/address.ts';
import { clientKeyOfHeader } from '../contracts/client-key.ts';
import {
  RELAY_HEADER_LENGTH,
  RELAY_MAX_PAYLOAD,
  RelayHeaderFlag,
  RelayHeaderOffset,
  isRelayHeader,
  isTcpRelayHeader,
} from '../contracts/relay-header.ts';
import { peekUsername } from '../core/stun/index.ts';
import type { Keyring, OpenOptions } from '../core/token/index.ts';
import { open } from '../core/token/index.ts';
import type { FirstCheckVerifier } from './first-check.ts';
import { TOKEN_DROP, verifyFirstCheck } from './first-check.ts';
import type { FlowIndex, FlowView, NewFlow } from './flow-index.ts';
import type { FlowTable, JsFlow } from './flow-table.ts';
import type { KeyedTokenBuckets } from '../core/rate-limit.ts';
import type { RevokedTokens } from './revoked-tokens.ts';
import type { DropReason } from './stats.ts';
import type { OnRemoved, TokenFlows } from './token-flows.ts';

export interface RouteContext<F extends FlowView> extends CheckContext {
  readonly table: FlowIndex<F>;
  /** The flows each token holds here, and their limits. */
  readonly tokenFlows: TokenFlows;
  /** Flows the per-token limits remove (counted by the worker). */
  readonly removed: OnRemoved;
  /** The relay's public addresses, by index (a flow's publicIndex). */
  readonly publics: readonly TransportAddress[];
}

export interface Source {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

export type ClientRoute<F extends FlowView> =
  | { readonly kind: 'forward'; readonly flow: F }
  | { readonly kind: 'created'; readonly flow: F; readonly replaced: boolean }
  | { readonly kind: 'lookup' }
  /** A check for another call from a live flow's address: forwarded on the flow, which stays. */
  | { readonly kind: 'takeover_refused'; readonly flow: F }
  /** A verified check whose token is past its first-flow window and holds no flow here: ask the store (admitLate). */
  | { readonly kind: 'ask_store'; readonly flow: NewFlow }
  | { readonly kind: 'drop'; readonly reason: DropReason };

/** What the return path needs: the JS datapath's table (the native loop does this in C). */
export interface ReturnContext {
  readonly table: FlowTable;
  readonly transceiverAllowed: (ip: string) => boolean;
}

export type ReturnRoute = { readonly kind: 'forward'; readonly flow: JsFlow } | { readonly kind: 'drop'; readonly reason: DropReason };

const drop = (reason: DropReason): { kind: 'drop'; reason: DropReason } => ({ kind: 'drop', reason });

/** RFC 7983 / RFC 9443: DTLS (20–63) or RTP/RTCP (128–191) — media a stored flow may carry. */
function mayBeMedia(first: number): boolean {
  return (first >= 20 && first <= 63) || (first >= 128 && first <= 191);
}

/**
 * A known flow that has carried nothing from its client for this long is dead, and a valid check
 * for another call from its client address may replace it: the address was reused (a NAT or
 * CGNAT handing the public port to someone else, a client restarted on the same port) while the
 * old flow lingered until its idle timeout. This is RFC 7675's consent timeout (30 s): a live
 * call — even one that only receives, or is on hold — sends a consent check every ~5 s, so it is
 * never replaced, and a check signed for another call from a forged source cannot take it.
 * A released flow (its token revoked when the call ended) is removed at once, freeing the address.
 */
export const REPLACE_DEAD_FLOW_AFTER_MS = 30_000;

/**
 * A token may open its first flow only this long after it was minted (its issue time is inside
 * it): a client starts ICE within seconds of the answer. Later, a token opens a flow only where
 * some relay already holds one of it (NAT rebinding, a relay restart or handover: the flow store
 * knows), so a token kept aside cannot be used to fill relays later. docs/relay.md.
 */
export const FIRST_FLOW_WINDOW_MS = 60_000;

/** The new-flow rate limit's key: the source IPv4 address, or the /64 of an IPv6 one (one subscriber's prefix). */
export function rateKey(address: string): string {
  if (!address.includes(':')) return address;
  const b = ipToBytes(address);
  return b ? b.subarray(0, 8).toString('hex') : address;
}

export function routeFromClient<F extends FlowView>(
  ctx: RouteContext<F>,
  packet: Buffer,
  from: Source,
  publicIndex: number,
  now: number,
): ClientRoute<F> {
  if (packet.length > RELAY_MAX_PAYLOAD) return drop('too_large');
  const known = ctx.table.get(from.address, from.port, publicIndex);
  const username = packet.length > 0 && packet[0] <= 3 ? peekUsername(packet) : undefined;
  if (known) {
    // Media, and checks for the flow's own call (the datapaths send every STUN packet here).
    if (username === undefined || ufragOf(username) === known.ufrag) {
      ctx.table.touch(known, now);
      return { kind: 'forward', flow: known };
    }
    if (now - known.lastSeen < REPLACE_DEAD_FLOW_AFTER_MS) {
      // A check for another call from a live flow's address: the flow stays; the check goes where
      // the flow goes (that transceiver ignores it) and does not count as the client's traffic.
      return { kind: 'takeover_refused', flow: known };
    }
  }
  if (packet.length === 0) return drop('not_stun');
  if (username === undefined) return mayBeMedia(packet[0]) ? { kind: 'lookup' } : drop('not_stun');
  const check = verifyCheck(ctx, packet, username, from, now);
  if (check.kind === 'drop') return check;
  const { ufrag, destination } = check;
  const flow: NewFlow = { client: from, publicIndex, public: ctx.publics[publicIndex], dest: destination, ufrag, confirmed: false };
  if (!check.inFirstFlowWindow && !ctx.tokenFlows.has(ctx.table, ufrag)) return { kind: 'ask_store', flow };
  return admit(ctx, flow, now);
}

/** What a first packet must prove, over UDP or TCP (verifyCheck). */
export interface CheckContext {
  readonly keyring: Keyring;
  /** New-flow attempts per source IPv4 address or IPv6 /64 (rateKey). */
  readonly newFlowLimiter: KeyedTokenBuckets;
  /** Tokens whose calls have ended. */
  readonly revoked: RevokedTokens;
  /** Is this IP inside the transceiver networks? (--transceiver-cidrs) */
  readonly transceiverAllowed: (ip: string) => boolean;
  readonly tokenOptions?: OpenOptions;
  /** Opens the token and verifies MESSAGE-INTEGRITY (first-check.ts): the native one where the addon is built; else verifyFirstCheck with keyring and tokenOptions. */
  readonly firstCheck?: FirstCheckVerifier;
}

export type VerifiedCheck =
  | { readonly kind: 'verified'; readonly ufrag: string; readonly destination: TransportAddress; readonly inFirstFlowWindow: boolean }
  | { readonly kind: 'drop'; readonly reason: DropReason };

/**
 * The stateless check that lets a client's STUN Binding Request (USERNAME `username`) open a
 * flow — a UDP flow here, a TCP connection in tcp/: the per-source rate limit before any crypto,
 * the token opened, MESSAGE-INTEGRITY verified with the password derived from it, its
 * destination inside the transceiver networks, not revoked. Whether the token is still inside
 * its first-flow window is the caller's to act on.
 */
export function verifyCheck(ctx: CheckContext, packet: Buffer, username: string, from: Source, now: number): VerifiedCheck {
  // Rate limit before any crypto: opening tokens and HMACs is the work a flood would buy.
  if (!ctx.newFlowLimiter.take(rateKey(from.address), now)) return drop('rate_limited');
  const ufrag = ufragOf(username);
  if (ufrag === '') return drop('token_malformed');
  const checked = ctx.firstCheck
    ? ctx.firstCheck.verify(packet, ufrag, now)
    : verifyFirstCheck(ctx.keyring, ctx.tokenOptions ?? {}, packet, ufrag, now);
  if (!checked.ok) return drop(checked.reason);
  if (!ctx.transceiverAllowed(checked.destination.address)) return drop('disallowed_destination');
  if (ctx.revoked.has(ufrag, now)) return drop('token_revoked');
  return { kind: 'verified', ufrag, destination: checked.destination, inFirstFlowWindow: now - checked.issuedAt <= FIRST_FLOW_WINDOW_MS };
}

/** Adds a verified flow under the per-token limits. */
function admit<F extends FlowView>(ctx: RouteContext<F>, flow: NewFlow, now: number): ClientRoute<F> {
  if (!flow.confirmed) ctx.tokenFlows.makeRoom(ctx.table, flow.ufrag, ctx.removed);
  const r = ctx.table.insert(flow, now);
  if (r.kind === 'full') return drop('table_full');
  ctx.tokenFlows.track(r.flow, now);
  return { kind: 'created', flow: r.flow, replaced: r.kind === 'replaced' };
}

/**
 * The store answered an 'ask_store': whether some relay holds a flow of the token. Things may
 * have changed meanwhile, so the revocation and the address's own flow are checked again.
 */
export function admitLate<F extends FlowView>(ctx: RouteContext<F>, flow: NewFlow, tokenHasFlow: boolean, now: number): ClientRoute<F> {
  if (!tokenHasFlow) return drop('token_window_closed');
  if (ctx.revoked.has(flow.ufrag, now)) return drop('token_revoked');
  const known = ctx.table.get(flow.client.address, flow.client.port, flow.publicIndex);
  if (known && known.ufrag !== flow.ufrag && now - known.lastSeen < REPLACE_DEAD_FLOW_AFTER_MS)
    return { kind: 'takeover_refused', flow: known };
  return admit(ctx, flow, now);
}

/** RFC 8445 §7.2.2: USERNAME = the receiver's (our) ufrag ":" the sender's; '' when malformed. */
function ufragOf(username: string): string {
  const colon = username.indexOf(':');
  return colon <= 0 ? '' : username.slice(0, colon);
}

/**
 * A flow from the store (start-up load or lookup). The record is not trusted: the token is
 * opened again and its destination checked, exactly as for a STUN check, so whoever can
 * write to Redis still cannot name a destination. Returns the flow, or why it was refused.
 */
export function recoverFlow<F extends FlowView>(
  ctx: RouteContext<F>,
  client: TransportAddress,
  publicIndex: number,
  ufrag: string,
  now: number,
): { flow: F } | { reason: DropReason } {
  const existing = ctx.table.get(client.address, client.port, publicIndex);
  if (existing) return { flow: existing };
  const opened = open(ufrag, ctx.keyring, now, ctx.tokenOptions);
  if (!opened.ok) return { reason: TOKEN_DROP[opened.reason] };
  if (!ctx.transceiverAllowed(opened.destination.address)) return { reason: 'disallowed_destination' };
  if (ctx.revoked.has(ufrag, now)) return { reason: 'token_revoked' };
  // A stored flow was a real flow of some relay: confirmed, so it joins its token's cap, not the pool.
  const r = admit(ctx, { client, publicIndex, public: ctx.publics[publicIndex], dest: opened.destination, ufrag, confirmed: true }, now);
  return r.kind === 'created' ? { flow: r.flow } : { reason: r.kind === 'drop' ? r.reason : 'table_full' };
}

/** Precomputed header bytes of each public address, to find a header's public index. */
export function publicMatchers(publics: readonly TransportAddress[]): readonly { v6: boolean; ip: Buffer; port: number }[] {
  return publics.map((p) => {
    const ip = ipToBytes(p.address);
    if (!ip) throw new RangeError(`not a literal IP: ${p.address}`);
    const padded = Buffer.alloc(16);
    ip.copy(padded);
    return { v6: ip.length === 16, ip: padded, port: p.port };
  });
}

/** The index of the public address a relay header names, or -1. */
export function publicIndexOfHeader(matchers: ReturnType<typeof publicMatchers>, buf: Buffer): number {
  const v6 = (buf[RelayHeaderOffset.flags] & RelayHeaderFlag.publicIpv6) !== 0;
  const port = (buf[RelayHeaderOffset.publicPort] << 8) | buf[RelayHeaderOffset.publicPort + 1];
  for (let i = 0; i < matchers.length; i++) {
    const m = matchers[i];
    if (m.v6 !== v6 || m.port !== port) continue;
    if (buf.compare(m.ip, 0, 16, RelayHeaderOffset.publicIp, RelayHeaderOffset.publicIp + 16) === 0) return i;
  }
  return -1;
}

export function routeFromTransceiver(
  ctx: ReturnContext,
  matchers: ReturnType<typeof publicMatchers>,
  packet: Buffer,
  from: Source,
): ReturnRoute {
  if (!ctx.transceiverAllowed(from.address)) return drop('disallowed_source');
  // A TCP client's header (version 2) belongs to the relay's TCP side, never to a UDP flow; the
  // native datapath drops it as a bad header too, so both datapaths count it alike.
  if (!isRelayHeader(packet) || isTcpRelayHeader(packet)) return drop('bad_header');
  if (packet.length - RELAY_HEADER_LENGTH > RELAY_MAX_PAYLOAD) return drop('too_large');
  const idx = publicIndexOfHeader(matchers, packet);
  if (idx < 0) return drop('unknown_flow');
  const flow = ctx.table.getReturn(idx, clientKeyOfHeader(packet));
  // Only back to a client with a live flow, and only from the transceiver that flow goes to.
  if (!flow || flow.destPort !== from.port || flow.destAddress !== from.address) return drop('unknown_flow');
  // The transceiver sends to this client: the flow is confirmed (token-flows.ts).
  flow.confirmed = true;
  return { kind: 'forward', flow };
}
