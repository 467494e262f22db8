// AES in counter mode as SRTP defines it (RFC 3711 §4.1.1), built on ONE long-lived AES-128-ECB
// cipher per key: node would otherwise need a fresh createCipheriv('aes-128-ctr') per packet,
// because the IV changes every packet. We write the counter blocks ourselves into a reused
// buffer and ECB-encrypt them in one update() call; ECB without padding emits every full block.
import { createCipheriv, type Cipheriv, type KeyObject } from 'node:crypto';

// SRTP's counter is the low 16 bits of the block (RFC 3711 §4.1.1: 2^16 blocks per packet).
const MAX_BLOCKS = 1 << 16;

export class AesCmKeystream {
  readonly #ecb: Cipheriv;
  // Counter blocks. Bytes 14..15 of block j hold j and never change, so they are written once
  // when the buffer grows; per packet only the 14 IV bytes of each block used are copied.
  #blocks: Buffer = Buffer.alloc(0);

  constructor(key: Buffer | KeyObject) {
    this.#ecb = createCipheriv('aes-128-ecb', key, null);
    this.#ecb.setAutoPadding(false);
    this.#grow(16);
  }

  /**
   * dst[dstStart..] = src[srcStart..srcEnd) XOR keystream(iv), where `iv` is the 16-byte
   * counter start whose last two bytes are zero. Returns false if the span needs more than
   * 2^16 blocks (the caller has already bounded packets, so this is a guard, not a path).
   */
  xor(iv: Buffer, src: Buffer, srcStart: number, srcEnd: number, dst: Buffer, dstStart: number): boolean {
    const n = srcEnd - srcStart;
    if (n <= 0) return true;
    const nBlocks = (n + 15) >>> 4;
    if (nBlocks > MAX_BLOCKS) return false;
    if (nBlocks > this.#blocks.length >>> 4) this.#grow(nBlocks);
    const blocks = this.#blocks;
    // Plain indexed loops: measured 3x faster than Buffer#copy for 14-byte runs.
    for (let off = 0, end = nBlocks << 4; off < end; off += 16) {
      for (let k = 0; k < 14; k++) blocks[off + k] = iv[k];
    }
    const ks = this.#ecb.update(this.#view(nBlocks));
    for (let i = 0; i < n; i++) dst[dstStart + i] = src[srcStart + i] ^ ks[i];
    return true;
  }

  // subarray() views of the counter buffer per block count, so a steady stream of same-sized
  // packets allocates no view object.
  #views: Buffer[] = [];
  #view(nBlocks: number): Buffer {
    return (this.#views[nBlocks] ??= this.#blocks.subarray(0, nBlocks << 4));
  }

  #grow(nBlocks: number): void {
    const size = Math.min(MAX_BLOCKS, Math.max(nBlocks, (this.#blocks.length >>> 4) * 2));
    const b = Buffer.alloc(size << 4);
    for (let j = 0; j < size; j++) b.writeUInt16BE(j, (j << 4) + 14);
    this.#blocks = b;
    this.#views = [];
  }
}
