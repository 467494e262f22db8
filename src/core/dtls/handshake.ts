// DTLS 1.2 handshake messages: the 12-byte handshake header with message_seq and fragment
// fields (RFC 6347 §4.2.2), and the bodies of the messages our ECDHE key exchange uses
// (RFC 5246 §7.4, RFC 8422 §5, RFC 6347 §4.2.1 HelloVerifyRequest). Decoders are total:
// malformed input throws a decode_error DtlsError, which the endpoint turns into an alert.
import { fail } from './errors.ts';
import { Reader, u16, u8, vec } from './reader.ts';

export const HandshakeType = {
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  helloVerifyRequest: 3,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateVerify: 15,
  clientKeyExchange: 16,
  finished: 20,
} as const;

export const HANDSHAKE_HEADER = 12;
/** RFC 8422 §5.4: ECParameters.curve_type named_curve. */
export const CURVE_TYPE_NAMED = 3;
/** RFC 5246 §7.4.4 ClientCertificateType: rsa_sign, and ecdsa_sign (RFC 8422 §5.5), by key kind. */
export const CERT_TYPE = { rsa: 1, ecdsa: 64 } as const;

export interface HandshakeFragment {
  msgType: number;
  length: number;
  messageSeq: number;
  fragmentOffset: number;
  body: Buffer;
}

/** Splits one handshake record's plaintext into fragments (a record may carry several). */
export function parseHandshakeFragments(plaintext: Buffer): HandshakeFragment[] {
  const r = new Reader(plaintext, 'handshake header');
  const out: HandshakeFragment[] = [];
  while (r.remaining > 0) {
    const msgType = r.u8();
    const length = r.u24();
    const messageSeq = r.u16();
    const fragmentOffset = r.u24();
    const body = r.vec(3);
    if (fragmentOffset + body.length > length) throw fail.decode('handshake fragment');
    out.push({ msgType, length, messageSeq, fragmentOffset, body });
  }
  return out;
}

/** Writes a 12-byte handshake header (RFC 6347 §4.2.2) at out[at…]. */
export function writeHandshakeHeader(
  out: Buffer,
  at: number,
  msgType: number,
  length: number,
  messageSeq: number,
  fragmentOffset: number,
  fragmentLength: number,
): void {
  out[at] = msgType;
  out.writeUIntBE(length, at + 1, 3);
  out.writeUInt16BE(messageSeq, at + 4);
  out.writeUIntBE(fragmentOffset, at + 6, 3);
  out.writeUIntBE(fragmentLength, at + 9, 3);
}

/** One handshake fragment with its header, in one buffer (every byte written). */
export function encodeFragment(msgType: number, messageSeq: number, total: Buffer, offset: number, length: number): Buffer {
  if (offset < 0 || length < 0 || offset + length > total.length) throw new RangeError('handshake fragment outside its message');
  const out = Buffer.allocUnsafe(HANDSHAKE_HEADER + length);
  writeHandshakeHeader(out, 0, msgType, total.length, messageSeq, offset, length);
  total.copy(out, HANDSHAKE_HEADER, offset, offset + length);
  return out;
}

/** A whole message as the transcript hashes it: one fragment at offset 0 (RFC 6347 §4.2.6). */
export function encodeMessage(msgType: number, messageSeq: number, body: Buffer): Buffer {
  return encodeFragment(msgType, messageSeq, body, 0, body.length);
}

export interface ClientHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cookie: Buffer;
  cipherSuites: number[];
  compressionMethods: number[];
  extensions: Buffer | undefined;
}

export function encodeClientHello(m: ClientHello): Buffer {
  return Buffer.concat([
    u16(m.version),
    m.random,
    vec(1, m.sessionId),
    vec(1, m.cookie),
    vec(2, Buffer.concat(m.cipherSuites.map(u16))),
    vec(1, Buffer.from(m.compressionMethods)),
    m.extensions === undefined ? Buffer.alloc(0) : vec(2, m.extensions),
  ]);
}

export function parseClientHello(body: Buffer): ClientHello {
  const r = new Reader(body, 'ClientHello');
  const version = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec(1);
  const cookie = r.vec(1);
  const suites = r.vec(2);
  const compression = r.vec(1);
  if (sessionId.length > 32 || suites.length < 2 || suites.length % 2 !== 0 || compression.length < 1) {
    throw fail.decode('ClientHello');
  }
  const extensions = r.remaining > 0 ? r.vec(2) : undefined;
  r.end();
  const cipherSuites: number[] = [];
  for (let i = 0; i < suites.length; i += 2) cipherSuites.push(suites.readUInt16BE(i));
  return { version, random, sessionId, cookie, cipherSuites, compressionMethods: [...compression], extensions };
}

export function encodeHelloVerifyRequest(version: number, cookie: Buffer): Buffer {
  return Buffer.concat([u16(version), vec(1, cookie)]);
}

export function parseHelloVerifyRequest(body: Buffer): { version: number; cookie: Buffer } {
  const r = new Reader(body, 'HelloVerifyRequest');
  const version = r.u16();
  const cookie = r.vec(1);
  r.end();
  return { version, cookie };
}

export interface ServerHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Buffer | undefined;
}

export function encodeServerHello(m: ServerHello): Buffer {
  return Buffer.concat([
    u16(m.version),
    m.random,
    vec(1, m.sessionId),
    u16(m.cipherSuite),
    u8(m.compressionMethod),
    m.extensions === undefined ? Buffer.alloc(0) : vec(2, m.extensions),
  ]);
}

export function parseServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const version = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec(1);
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  const extensions = r.remaining > 0 ? r.vec(2) : undefined;
  r.end();
  if (sessionId.length > 32) throw fail.decode('ServerHello');
  return { version, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export function encodeCertificate(chain: readonly Buffer[]): Buffer {
  return vec(3, Buffer.concat(chain.map((c) => vec(3, c))));
}

export function parseCertificate(body: Buffer): Buffer[] {
  const r = new Reader(body, 'Certificate');
  const list = new Reader(r.vec(3), 'Certificate');
  r.end();
  const out: Buffer[] = [];
  while (list.remaining > 0) {
    const c = list.vec(3);
    if (c.length === 0) throw fail.decode('Certificate');
    out.push(c);
  }
  return out;
}

/** A digitally-signed struct (RFC 5246 §4.7): SignatureAndHashAlgorithm ‖ signature<0..2^16-1>. */
export interface Signed {
  algorithm: number;
  signature: Buffer;
}

export function encodeSigned(s: Signed): Buffer {
  return Buffer.concat([u16(s.algorithm), vec(2, s.signature)]);
}

export interface ServerKeyExchange {
  group: number;
  publicKey: Buffer;
  /** ServerECDHParams as sent: what the signature covers after the two randoms (RFC 8422 §5.4). */
  params: Buffer;
  signed: Signed;
}

export function encodeEcdhParams(group: number, publicKey: Buffer): Buffer {
  return Buffer.concat([u8(CURVE_TYPE_NAMED), u16(group), vec(1, publicKey)]);
}

export function parseServerKeyExchange(body: Buffer): ServerKeyExchange {
  const r = new Reader(body, 'ServerKeyExchange');
  if (r.u8() !== CURVE_TYPE_NAMED) throw fail.illegal('ServerKeyExchange curve type is not named_curve');
  const group = r.u16();
  const publicKey = r.vec(1);
  const params = body.subarray(0, 3 + 1 + publicKey.length);
  const algorithm = r.u16();
  const signature = r.vec(2);
  r.end();
  return { group, publicKey, params, signed: { algorithm, signature } };
}

export interface CertificateRequest {
  certificateTypes: readonly number[];
  signatureAlgorithms: readonly number[];
}

export function encodeCertificateRequest(m: CertificateRequest): Buffer {
  return Buffer.concat([
    vec(1, Buffer.from(m.certificateTypes)),
    vec(2, Buffer.concat(m.signatureAlgorithms.map(u16))),
    vec(2, Buffer.alloc(0)), // certificate_authorities: none, the certificates are self-signed
  ]);
}

export function parseCertificateRequest(body: Buffer): CertificateRequest {
  const r = new Reader(body, 'CertificateRequest');
  const types = r.vec(1);
  const algs = r.vec(2);
  r.vec(2);
  r.end();
  if (algs.length % 2 !== 0) throw fail.decode('CertificateRequest');
  const signatureAlgorithms: number[] = [];
  for (let i = 0; i < algs.length; i += 2) signatureAlgorithms.push(algs.readUInt16BE(i));
  return { certificateTypes: [...types], signatureAlgorithms };
}

export function parseClientKeyExchange(body: Buffer): Buffer {
  const r = new Reader(body, 'ClientKeyExchange');
  const point = r.vec(1);
  r.end();
  return point;
}

export function parseSigned(body: Buffer, what: string): Signed {
  const r = new Reader(body, what);
  const algorithm = r.u16();
  const signature = r.vec(2);
  r.end();
  return { algorithm, signature };
}

export function parseEmpty(body: Buffer, what: string): void {
  if (body.length !== 0) throw fail.decode(what);
}
