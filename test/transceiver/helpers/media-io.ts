// The media socket the transceiver tests use: the production rule (native where the addon built,
// else dgram) unless PARLEY_MEDIA_IO says otherwise — media-io-suite.test.ts runs the tests that
// carry media again with PARLEY_MEDIA_IO=dgram, so `npm test` covers both. Spawned transceivers
// read the same variable.
import { resolveMediaIo } from '../../../src/transceiver/config.ts';
import type { MediaIo } from '../../../src/transceiver/media/media-socket.ts';

const asked = process.env.PARLEY_MEDIA_IO;
export const TEST_MEDIA_IO: MediaIo = resolveMediaIo(asked === 'dgram' || asked === 'native' ? asked : undefined).io;
