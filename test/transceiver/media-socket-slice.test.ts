// Issue #18: the native media socket's reader thread, and the JavaScript thread once it handles a
// call's setup datagrams itself (an urgentOffset given: STUN and DTLS end the batch window), ask
// the scheduler for its shortest slice (native/src/socket_util.h, ask_short_slice;
// docs/performance.md, confirm): each step of a call's setup is a round trip the client waits on,
// and a thread woken by its datagram then runs before the one holding the core ends its slice.
// Their nice value, hence their share of the CPU, is unchanged; a socket without an urgentOffset
// (every datagram media) leaves the JavaScript thread as it was. Linux ≥ 6.12 shows a thread's
// slice in /proc/…/sched (se.slice); an older kernel ignores the request, and there the test
// checks only that the nice value is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPriority } from 'node:os';
import type { TransportAddress } from '../../src/core/address.ts';
import { NativeMediaSocket, loadMediaSocketAddon } from '../../src/transceiver/media/media-socket-native.ts';
import { SHORT_SLICE_NS, customSlices, ownTid, sliceOf } from '../support/sched-slice.ts';

const skip = loadMediaSocketAddon() instanceof Error && process.env.CI !== 'true' ? 'the native media socket addon is not built' : false;
const LOCAL: TransportAddress = { address: '127.0.0.1', port: 0, family: 'IPv4' };

function bind(urgentOffset: number | undefined): Promise<NativeMediaSocket> {
  return NativeMediaSocket.bind({
    bind: LOCAL,
    bufferBytes: 1 << 20,
    batchUs: 2000,
    urgentOffset,
    onDatagram: () => {},
    onTooLarge: () => {},
    onSendError: () => {},
  });
}

test(
  'the reader thread always, and the JavaScript thread once it handles setup datagrams, ask for the shortest slice; nice unchanged',
  { skip },
  async () => {
    const check = customSlices();
    const own = ownTid();
    const nice = getPriority();
    const ownBefore = sliceOf(own);

    const media = await bind(undefined);
    try {
      assert.equal(getPriority(media.tid), nice, 'reader: nice as the thread that opened the socket');
      if (check && ownBefore !== undefined) {
        assert.equal(sliceOf(media.tid), SHORT_SLICE_NS, 'reader of a media-only socket: se.slice');
        assert.equal(sliceOf(own), ownBefore, 'a media-only socket leaves the JavaScript thread as it was');
        assert.ok(ownBefore > SHORT_SLICE_NS, `the JavaScript thread starts with the default slice (${ownBefore} ns)`);
      }
    } finally {
      await media.close();
    }

    const setup = await bind(40);
    try {
      assert.equal(getPriority(setup.tid), nice, 'reader: nice unchanged');
      assert.equal(getPriority(), nice, 'JavaScript thread: nice unchanged');
      if (check && ownBefore !== undefined) {
        assert.equal(sliceOf(setup.tid), SHORT_SLICE_NS, 'reader: se.slice');
        assert.equal(sliceOf(own), SHORT_SLICE_NS, 'the JavaScript thread that handles setup datagrams: se.slice');
      }
    } finally {
      await setup.close();
    }
  },
);
