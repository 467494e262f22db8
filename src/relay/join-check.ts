// Before a relay joins a public port that is already held (SO_REUSEPORT: a hand-over, or a
// mistake), it checks that the holder forwards tokens of OUR keyring (issue #20). Otherwise a
// second `parley relay` with other keys, started on a taken port, would join the group and the
// kernel would give it half the clients, whose checks it cannot open: half the calls fail.
//
// The check is the relay protocol itself, so the holder keeps no state for it and needs no new
// endpoint: we mint a routing token whose destination is a probe socket of ours on the internal
// address, send a valid ICE check with it to the public port from a second socket, and wait for
// the holder to forward it (relay header + our exact bytes). A relay with the same keys does;
// one with other keys drops it (token_bad_tag / token_unknown_key), as does anything that is not
// a relay. Each key of our keyring is tried (a rotation may have added one). Not here: binding.
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import { connectivityCheck } from '../core/ice/binding-request.ts';
import type { Rng } from '../core/rng.ts';
import { Keyring, mint } from '../core/token/index.ts';
import { RELAY_HEADER_LENGTH, isRelayHeader } from '../contracts/relay-header.ts';

export interface JoinCheckOptions {
  /** The public addresses this relay is about to bind (port 0 is never held). */
  readonly publics: readonly TransportAddress[];
  /** This relay's internal address: the probe's destination lives on its IP. */
  readonly internal: TransportAddress;
  readonly keyring: Keyring;
  readonly rng: Rng;
  /** How long to wait for each forwarded probe (default 1000 ms; two tries per key). */
  readonly waitMs?: number;
  readonly now?: () => number;
}

export type JoinCheck =
  | { readonly kind: 'free' }
  | { readonly kind: 'same_keys'; readonly public: TransportAddress }
  | { readonly kind: 'refused'; readonly public: TransportAddress };

const udpType = (a: TransportAddress): 'udp4' | 'udp6' => (a.family === 'IPv6' ? 'udp6' : 'udp4');

function bind(a: TransportAddress, port: number, reusePort = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: udpType(a), reusePort });
    s.once('error', reject);
    s.bind(port, a.address, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

const close = (s: Socket): Promise<void> => new Promise((r) => s.close(() => r()));

/**
 * Who holds `a`: nobody; a socket that lets others join (SO_REUSEPORT, same user: a relay); or
 * one that does not (the real bind then fails with EADDRINUSE, as without this check). Telling
 * the last two apart binds a SO_REUSEPORT socket for a moment: the kernel could hand it a
 * datagram meant for the holder in that instant, which is then lost (one, at most, per start).
 */
export async function portHolder(a: TransportAddress): Promise<'free' | 'shared' | 'exclusive'> {
  if (a.port === 0) return 'free';
  for (const reusePort of [false, true]) {
    try {
      await close(await bind(a, a.port, reusePort));
      return reusePort ? 'shared' : 'free';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  return 'exclusive';
}

/** The holder of `pub` forwarded a check minted under `key` to our probe socket. */
async function forwards(pub: TransportAddress, o: JoinCheckOptions, key: Keyring, waitMs: number): Promise<boolean> {
  // An unspecified internal address cannot be a token destination: the probe lives on the public IP then.
  const destIp = /^(0\.0\.0\.0|::)$/.test(o.internal.address) ? pub : o.internal;
  const dest = await bind(destIp, 0);
  const client = await bind(pub, 0);
  try {
    const destination: TransportAddress = { address: destIp.address, port: dest.address().port, family: destIp.family };
    const t = mint(destination, key, (o.now ?? Date.now)(), o.rng);
    const check = connectivityCheck({
      transactionId: o.rng.bytes(12),
      localUfrag: 'join',
      remoteUfrag: t.ufrag,
      remotePwd: t.pwd,
      priority: 1,
      role: { controlling: true, tieBreaker: 1n },
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const got = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), waitMs);
        dest.on('message', (m: Buffer) => {
          if (isRelayHeader(m) && m.subarray(RELAY_HEADER_LENGTH).equals(check)) {
            clearTimeout(timer);
            resolve(true);
          }
        });
      });
      client.send(check, pub.port, pub.address);
      if (await got) return true;
      dest.removeAllListeners('message');
    }
    return false;
  } finally {
    await Promise.all([close(dest), close(client)]);
  }
}

/**
 * For each public port held by a SO_REUSEPORT group: does its holder forward our tokens? `refused` names the first port
 * whose holder forwards none of our keys' tokens; `same_keys` that a holder did (a hand-over).
 */
export async function checkJoin(o: JoinCheckOptions): Promise<JoinCheck> {
  let result: JoinCheck = { kind: 'free' };
  for (const pub of o.publics) {
    if ((await portHolder(pub)) !== 'shared') continue;
    let ok = false;
    for (const k of o.keyring.keys) {
      if (await forwards(pub, o, new Keyring([{ id: k.id, secret: k.exportSecret() }]), o.waitMs ?? 1000)) {
        ok = true;
        break;
      }
    }
    if (!ok) return { kind: 'refused', public: pub };
    result = { kind: 'same_keys', public: pub };
  }
  return result;
}

/** The refusal, for the log and the exit message. */
export function refusalText(pub: TransportAddress, keyIds: readonly number[], internal: TransportAddress): string {
  return (
    `${formatAddress(pub)} is held by a process that does not forward this relay's tokens: a relay with other keys ` +
    `(this one's --keys-file / PARLEY_KEYS has key ids ${keyIds.join(',')}), or one whose --transceiver-cidrs exclude ` +
    `${internal.address}, or not a relay. Joining its SO_REUSEPORT group would fail half the calls; refusing (--join-check off skips this)`
  );
}
