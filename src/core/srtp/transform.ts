// The cipher half of SRTP: what one profile does to one packet once the session has worked out
// its SSRC and index. Index estimation, replay and per-SSRC state live in SrtpSession; the two
// implementations (AES-CM + HMAC-SHA1, AES-GCM) only encrypt, decrypt and authenticate.
// Every method returns a fresh buffer and never writes into its input.

export interface SrtpTransform {
  /** Bytes of tag after the payload. */
  readonly tagLength: number;
  /** Where the 4-byte E-flag|SRTCP-index word sits in an SRTCP packet of `length` bytes. */
  srtcpTrailerOffset(length: number): number;
  /** Smallest SRTCP packet: 8-byte RTCP header+SSRC, index word, tag. */
  readonly minSrtcpLength: number;

  /** RTP packet (header of `headerLength` bytes) → SRTP packet with tag. */
  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined;
  /** SRTP packet → RTP packet, or undefined when the tag does not verify. */
  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined;
  /** RTCP compound packet → SRTCP packet with E=1 and the given 31-bit index. */
  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer | undefined;
  /** SRTCP packet whose trailer word is `eIndex` → RTCP packet, or undefined on tag mismatch. */
  unprotectRtcp(packet: Buffer, ssrc: number, eIndex: number): Buffer | undefined;
}
