// The relay addresses a transceiver advertises as ICE candidates (`--relays`). Today a spec is a
// comma-separated HOST:PORT list, e.g. `203.0.113.7:3478,[2001:db8::7]:3478`, listed in
// preference order. Named locations (`eu=HOST:PORT,…;us=HOST:PORT`) already parse, so choosing
// the nearest location per call can come later without a new syntax; until then every address
// of every location is advertised, in the order written. Not here: which location a call gets.
import type { TransportAddress } from '../../core/address.ts';
import { formatAddress, parseAddress } from '../../core/address.ts';

export interface RelayLocation {
  /** Location name (`eu`), or '' for the unnamed list. */
  readonly name: string;
  readonly addresses: readonly TransportAddress[];
}

export interface RelaySpec {
  readonly locations: readonly RelayLocation[];
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

function addressList(text: string, where: string): TransportAddress[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new Error(`${where}: empty address in '${text}'`);
  return parts.map((p) => {
    const a = parseAddress(p);
    if (!a) throw new Error(`${where}: '${p}' is not HOST:PORT with a literal IP (e.g. 203.0.113.7:3478 or [2001:db8::7]:3478)`);
    if (a.port === 0) throw new Error(`${where}: '${p}' has port 0; browsers cannot send to it`);
    if (/^(0\.0\.0\.0|::)$/.test(a.address)) throw new Error(`${where}: '${p}' is an unspecified address; advertise the relay's public IP`);
    return a;
  });
}

/** Parses a relay spec. Throws Error (the config layer wraps it in ConfigError). */
export function parseRelaySpec(text: string): RelaySpec {
  const t = text.trim();
  if (t === '') throw new Error('no relay address given');
  if (!t.includes('=')) return { locations: [{ name: '', addresses: addressList(t, 'relays') }] };
  const seen = new Set<string>();
  const locations = t.split(';').map((part) => {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    if (eq < 0 || !NAME.test(name))
      throw new Error(`'${part.trim()}' is not NAME=HOST:PORT[,HOST:PORT…] (names: lower-case letters, digits, '-')`);
    if (seen.has(name)) throw new Error(`location '${name}' is listed twice`);
    seen.add(name);
    return { name, addresses: addressList(part.slice(eq + 1), `location '${name}'`) };
  });
  return { locations };
}

/** Every address to advertise, in preference order, without duplicates. */
export function advertisedAddresses(spec: RelaySpec): TransportAddress[] {
  const out = new Map<string, TransportAddress>();
  for (const l of spec.locations) for (const a of l.addresses) out.set(formatAddress(a), a);
  return [...out.values()];
}

export function formatRelaySpec(spec: RelaySpec): string {
  return spec.locations.map((l) => (l.name ? `${l.name}=` : '') + l.addresses.map(formatAddress).join(',')).join(';');
}

/**
 * The location each advertised address belongs to ('default' for the unnamed list, 'other' for an
 * address not in the spec): a metrics label bounded by the configuration.
 */
export function locationOfAddress(spec: RelaySpec): (address: string) => string {
  const byAddress = new Map<string, string>();
  for (const l of spec.locations)
    for (const a of l.addresses) if (!byAddress.has(formatAddress(a))) byAddress.set(formatAddress(a), l.name || 'default');
  return (address) => byAddress.get(address) ?? 'other';
}
