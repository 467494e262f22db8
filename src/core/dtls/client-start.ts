// A DTLS client's start made before its call exists (issue #18): the ClientHello's random and body
// and an X25519 key share — the parts of a client's first move that depend neither on the offer
// (the peer's fingerprint) nor on our certificate — made by an owner with idle time before its
// calls come (the transceiver's pool, src/transceiver/media/dtls-client-starts.ts) and taken by a
// ClientHandshake as it starts (DtlsEndpoint.prepare). A start is spent by its first taker: its
// random (RFC 5246 §7.4.1.2) and its ephemeral key (RFC 8422 §2: ECDHE, one key per handshake)
// belong to one handshake; and only a handshake that offers the suites and SRTP profiles its
// ClientHello names may use it. Not here: how many are kept or for how long (the owner's policy),
// the P-256/P-384 shares (made when a server picks them, as before), the server role (it answers a
// ClientHello; nothing of it can be made before one comes).
import type { Rng } from '../rng.ts';
import { generateEphemeral, nodeX25519 } from './ecdhe.ts';
import type { EphemeralKey, X25519 } from './ecdhe.ts';
import { clientHelloExtensions, NamedGroup } from './extensions.ts';
import type { SrtpProfileName } from './extensions.ts';
import { encodeClientHello } from './handshake.ts';
import { DTLS12 } from './record.ts';
import { offeredSettings } from './settings.ts';
import type { CipherSuite } from './suites.ts';

/** The body of a ClientHello of ours (RFC 6347 §4.2.1): `cookie` empty at first, the server's after a HelloVerifyRequest. */
export function ourClientHello(random: Buffer, cookie: Buffer, suites: readonly CipherSuite[], srtpProfiles: readonly number[]): Buffer {
  return encodeClientHello({
    version: DTLS12,
    random,
    sessionId: Buffer.alloc(0),
    cookie,
    cipherSuites: suites.map((s) => s.id),
    compressionMethods: [0],
    extensions: clientHelloExtensions(srtpProfiles),
  });
}

/** What a start gives the handshake that takes it. */
export interface ClientStartParts {
  readonly random: Buffer;
  /** The first ClientHello's body (no cookie) with `random`. */
  readonly helloBody: Buffer;
  /** An X25519 share (X25519 is first in our preference and every traced WebRTC peer's pick). */
  readonly keyShare: EphemeralKey;
}

export interface ClientStartOptions {
  readonly rng: Rng;
  /** The X25519 the handshakes that take it use (DtlsOptions.x25519); default node:crypto's. */
  readonly x25519?: X25519;
  /** As DtlsOptions.cipherSuites / srtpProfiles: the endpoints that may take it must offer the same. */
  readonly cipherSuites?: readonly string[];
  readonly srtpProfiles?: readonly SrtpProfileName[];
}

export class DtlsClientStart {
  /** When it was made, on its owner's clock (the owner drops it past its age limit). */
  readonly madeAt: number;
  readonly #suites: readonly CipherSuite[];
  readonly #srtpProfiles: readonly number[];
  #parts: ClientStartParts | undefined;

  constructor(o: ClientStartOptions, now: number) {
    const offered = offeredSettings(o);
    this.madeAt = now;
    this.#suites = offered.suites;
    this.#srtpProfiles = offered.srtpProfiles;
    const random = o.rng.bytes(32);
    this.#parts = {
      random,
      helloBody: ourClientHello(random, Buffer.alloc(0), offered.suites, offered.srtpProfiles),
      keyShare: generateEphemeral(NamedGroup.x25519, o.rng, o.x25519 ?? nodeX25519),
    };
  }

  /** Taken (or dropped): it gives nothing any more. */
  get spent(): boolean {
    return this.#parts === undefined;
  }

  /**
   * The parts, for a handshake offering exactly `suites` and `srtpProfiles` (in this order), or
   * undefined when spent or made for other ones. Spends the start either way: no two handshakes
   * can get the same random or key.
   */
  take(suites: readonly CipherSuite[], srtpProfiles: readonly number[]): ClientStartParts | undefined {
    const parts = this.#parts;
    if (parts === undefined) return undefined;
    if (!sameIds(suites, this.#suites) || !sameNumbers(srtpProfiles, this.#srtpProfiles)) {
      this.drop();
      return undefined;
    }
    this.#parts = undefined;
    return parts;
  }

  /** Spends it unused (its owner's age limit, or close): the random is zeroed, the key forgotten. Idempotent. */
  drop(): void {
    const parts = this.#parts;
    this.#parts = undefined;
    parts?.random.fill(0);
    parts?.helloBody.fill(0);
  }
}

/** Where a peer takes a start made ahead (AudioPeer.prepare): undefined when none is at hand. */
export interface DtlsClientStarts {
  take(now: number): DtlsClientStart | undefined;
}

function sameIds(a: readonly CipherSuite[], b: readonly CipherSuite[]): boolean {
  return a.length === b.length && a.every((s, i) => s.id === b[i].id);
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
