// The media socket the transceiver tests use: the production rule (native where the addon built,
// else dgram) unless PARLEY_MEDIA_IO says otherwise — media-io-suite.test.ts runs the tests that
// carry media again with PARLEY_MEDIA_IO=dgram, so `npm test` covers both. Spawned transceivers
// read the same variable.
import { resolveMediaIo } from '../../../src/transceiver/config.ts';
import type { MediaIo } from '../../../src/transceiver/media/media-socket.ts';
import type { Clock } from '../../../src/common/clock.ts';
import { MetricsRegistry } from '../../../src/common/metrics.ts';
import { CidrSet } from '../../../src/core/cidr.ts';
import { MediaEndpoint } from '../../../src/transceiver/media/endpoint.ts';
import { transceiverMetrics } from '../../../src/transceiver/transceiver-metrics.ts';

const asked = process.env.PARLEY_MEDIA_IO;
export const TEST_MEDIA_IO: MediaIo = resolveMediaIo(asked === 'dgram' || asked === 'native' ? asked : undefined).io;

/** A media endpoint on 127.0.0.1 (any port) that takes datagrams from relays on 127.0.0.1, on TEST_MEDIA_IO and `clock`. */
export function bindLoopbackEndpoint(clock: Clock): Promise<MediaEndpoint> {
  return MediaEndpoint.bind({
    bind: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    metrics: transceiverMetrics(new MetricsRegistry()),
    clock,
    io: TEST_MEDIA_IO,
  });
}
