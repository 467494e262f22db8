// The hello extensions we speak (RFC 5246 §7.4.1.4) and the values WebRTC needs:
// supported_groups and ec_point_formats (RFC 8422 §5.1), signature_algorithms (RFC 5246
// §7.4.1.4.1), use_srtp (RFC 5764 §4.1.1), extended_master_secret (RFC 7627 §5.1) and
// renegotiation_info (RFC 5746 §3.2). Unknown extensions in a ClientHello are ignored;
// a ServerHello may only echo what the client offered (RFC 5246 §7.4.1.4).
import { fail } from './errors.ts';
import { Reader, u16, u8, vec } from './reader.ts';
import { SIGNATURE_PREFERENCE } from './signature.ts';

export const ExtensionType = {
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  useSrtp: 14,
  extendedMasterSecret: 23,
  renegotiationInfo: 0xff01,
} as const;

/**
 * RFC 8422 §5.1.1 / RFC 7748: the ECDHE groups we accept, in our preference order: X25519 (the
 * fastest, constant-time by design), P-256 (what every stack has), P-384 (for peers that insist).
 */
export const NamedGroup = { x25519: 0x001d, secp256r1: 0x0017, secp384r1: 0x0018 } as const;
export type NamedGroup = (typeof NamedGroup)[keyof typeof NamedGroup];
export const GROUP_PREFERENCE: readonly NamedGroup[] = [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1];
export const POINT_FORMAT_UNCOMPRESSED = 0;

/** RFC 5764 §4.1.2 and RFC 7714 §14.2. */
export const SrtpProfile = {
  SRTP_AES128_CM_HMAC_SHA1_80: 0x0001,
  SRTP_AEAD_AES_128_GCM: 0x0007,
} as const;
export type SrtpProfileName = keyof typeof SrtpProfile;

const SRTP_PROFILES = Object.entries(SrtpProfile) as [SrtpProfileName, number][];

export function srtpProfileName(id: number): SrtpProfileName | undefined {
  for (const [name, value] of SRTP_PROFILES) if (value === id) return name;
  return undefined;
}

/** RFC 5764 §4.2 keying material length per profile: 2 × (key + salt). */
export function srtpKeyingLength(profile: SrtpProfileName): number {
  return profile === 'SRTP_AES128_CM_HMAC_SHA1_80' ? 2 * (16 + 14) : 2 * (16 + 12);
}

/** What a hello's extensions said; undefined fields were absent. */
export interface HelloExtensions {
  groups?: number[];
  pointFormats?: number[];
  signatureAlgorithms?: number[];
  srtpProfiles?: number[];
  srtpMki?: Buffer;
  extendedMasterSecret: boolean;
  renegotiationInfo?: Buffer;
  /** Every extension type present, in order (to check a ServerHello only echoes offers). */
  types: number[];
}

function u16List(data: Buffer, what: string, lenBytes: 1 | 2, itemBytes: 1 | 2): number[] {
  const r = new Reader(data, what);
  const list = r.vec(lenBytes);
  r.end();
  if (list.length % itemBytes !== 0) throw fail.decode(what);
  const out: number[] = [];
  for (let i = 0; i < list.length; i += itemBytes) out.push(itemBytes === 2 ? list.readUInt16BE(i) : list[i]);
  return out;
}

export function parseExtensions(raw: Buffer | undefined): HelloExtensions {
  const ext: HelloExtensions = { extendedMasterSecret: false, types: [] };
  if (raw === undefined) return ext;
  const r = new Reader(raw, 'extensions');
  while (r.remaining > 0) {
    const type = r.u16();
    const data = r.vec(2);
    // RFC 5246 §7.4.1.4: there MUST NOT be more than one extension of the same type.
    if (ext.types.includes(type)) throw fail.decode('extensions (duplicate)');
    ext.types.push(type);
    switch (type) {
      case ExtensionType.supportedGroups:
        ext.groups = u16List(data, 'supported_groups', 2, 2);
        break;
      case ExtensionType.ecPointFormats:
        ext.pointFormats = u16List(data, 'ec_point_formats', 1, 1);
        break;
      case ExtensionType.signatureAlgorithms:
        ext.signatureAlgorithms = u16List(data, 'signature_algorithms', 2, 2);
        break;
      case ExtensionType.useSrtp: {
        const sr = new Reader(data, 'use_srtp');
        const profiles = sr.vec(2);
        ext.srtpMki = sr.vec(1);
        sr.end();
        if (profiles.length % 2 !== 0 || profiles.length === 0) throw fail.decode('use_srtp');
        ext.srtpProfiles = [];
        for (let i = 0; i < profiles.length; i += 2) ext.srtpProfiles.push(profiles.readUInt16BE(i));
        break;
      }
      case ExtensionType.extendedMasterSecret:
        if (data.length !== 0) throw fail.decode('extended_master_secret');
        ext.extendedMasterSecret = true;
        break;
      case ExtensionType.renegotiationInfo: {
        const rr = new Reader(data, 'renegotiation_info');
        ext.renegotiationInfo = rr.vec(1);
        rr.end();
        break;
      }
      default:
        break;
    }
  }
  return ext;
}

function ext(type: number, data: Buffer): Buffer {
  return Buffer.concat([u16(type), vec(2, data)]);
}

function u16Vec(values: readonly number[]): Buffer {
  return vec(2, Buffer.concat(values.map(u16)));
}

function useSrtp(profiles: readonly number[]): Buffer {
  // MKI empty: WebRTC never uses SRTP MKIs (RFC 8827 §6.5 profiles, RFC 5764 §4.1.1).
  return ext(ExtensionType.useSrtp, Buffer.concat([u16Vec(profiles), u8(0)]));
}

export function clientHelloExtensions(srtpProfiles: readonly number[]): Buffer {
  return Buffer.concat([
    ext(ExtensionType.supportedGroups, u16Vec(GROUP_PREFERENCE)),
    ext(ExtensionType.ecPointFormats, vec(1, u8(POINT_FORMAT_UNCOMPRESSED))),
    ext(ExtensionType.signatureAlgorithms, u16Vec(SIGNATURE_PREFERENCE)),
    useSrtp(srtpProfiles),
    ext(ExtensionType.extendedMasterSecret, Buffer.alloc(0)),
    // RFC 5746 §3.4: an initial handshake carries an empty renegotiated_connection.
    ext(ExtensionType.renegotiationInfo, u8(0)),
  ]);
}

/**
 * The ServerHello's extensions (a shared buffer: callers copy it, never write into it). renegotiation_info only answers a client that signalled it
 * (extension or SCSV, RFC 5746 §3.6) and ec_point_formats only a client that sent it
 * (RFC 8422 §5.2): a server must not send what was not offered.
 */
export function serverHelloExtensions(srtpProfile: number, answer: { renegotiationInfo: boolean; pointFormats: boolean }): Buffer {
  // Few answers exist (one of our SRTP profiles, two flags): each is built once and shared, read-only.
  const key = srtpProfile * 4 + (answer.renegotiationInfo ? 2 : 0) + (answer.pointFormats ? 1 : 0);
  let built = SERVER_HELLO_EXTENSIONS.get(key);
  if (built === undefined) {
    built = buildServerHelloExtensions(srtpProfile, answer);
    if (SERVER_HELLO_EXTENSIONS.size < MAX_SERVER_HELLO_EXTENSIONS) SERVER_HELLO_EXTENSIONS.set(key, built);
  }
  return built;
}

/** serverHelloExtensions' answers; bounded although the server only asks for its own profiles. */
const SERVER_HELLO_EXTENSIONS = new Map<number, Buffer>();
const MAX_SERVER_HELLO_EXTENSIONS = 64;

function buildServerHelloExtensions(srtpProfile: number, answer: { renegotiationInfo: boolean; pointFormats: boolean }): Buffer {
  return Buffer.concat([
    useSrtp([srtpProfile]),
    ext(ExtensionType.extendedMasterSecret, Buffer.alloc(0)),
    answer.renegotiationInfo ? ext(ExtensionType.renegotiationInfo, u8(0)) : Buffer.alloc(0),
    answer.pointFormats ? ext(ExtensionType.ecPointFormats, vec(1, u8(POINT_FORMAT_UNCOMPRESSED))) : Buffer.alloc(0),
  ]);
}

/** RFC 5746 §3.3: TLS_EMPTY_RENEGOTIATION_INFO_SCSV, equivalent to an empty renegotiation_info. */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
