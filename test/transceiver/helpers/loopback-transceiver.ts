// The options of an in-process transceiver on 127.0.0.1 (HTTP and media on any port, relays on
// 127.0.0.1, one advertised relay address, seeded keys, certificate and randomness), which the
// signaling tests share; each test adds what it is about.
import { seededRng } from '../../../src/core/rng.ts';
import { Keyring } from '../../../src/core/token/index.ts';
import { generateCertificate } from '../../../src/core/dtls/index.ts';
import { CidrSet } from '../../../src/core/cidr.ts';
import type { HandlerRegistry } from '../../../src/transceiver/handlers/registry.ts';
import type { TransceiverOptions } from '../../../src/transceiver/transceiver.ts';
import { TEST_MEDIA_IO } from './media-io.ts';

export function loopbackTransceiverOptions(
  seed: string,
  handlers: HandlerRegistry,
  handler: string,
  more: Partial<TransceiverOptions> = {},
): TransceiverOptions {
  return {
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' }],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring: Keyring.generate(seededRng(`${seed}-keys`)),
    maxSessions: 10,
    maxCallSeconds: 60,
    handler,
    handlers,
    certificate: generateCertificate(seededRng(`${seed}-cert`)),
    rng: seededRng(seed),
    mediaIo: TEST_MEDIA_IO,
    ...more,
  };
}
