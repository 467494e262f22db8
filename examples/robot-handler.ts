// An example handler module (docs/agents.md, "In-process handler"): `parley transceiver
// --handler-module examples/robot-handler.ts --handler robot` (or `npm start -- …`). The robot
// works in PCM at 16 kHz: it greets with a 550 Hz beep of 1 s, and when that has played (a mark)
// answers with a 660 Hz beep of 1 s. When the caller talks over the greeting it stops at once
// (flush(): barge-in), and the mark then says the greeting was not heard, so it does not answer.
// Keys: it presses every key the caller presses back (RFC 4733 both ways), and hangs up on #.
import { pcmHandler } from '../src/transceiver/handlers/pcm.ts';
import type { HandlerRegistry } from '../src/transceiver/handlers/registry.ts';

const RATE = 16000;

function beep(hz: number, ms: number): Int16Array {
  const pcm = new Int16Array((RATE * ms) / 1000);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(0.4 * 32767 * Math.sin((2 * Math.PI * hz * i) / RATE));
  return pcm;
}

function loud(pcm: Int16Array): boolean {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / pcm.length) / 32768 > 0.05;
}

export default function register(handlers: HandlerRegistry): void {
  handlers.register(
    'robot',
    pcmHandler({ sampleRate: RATE }, (ctx) => {
      ctx.write(beep(550, 1000));
      ctx.mark((played) => {
        if (played) ctx.write(beep(660, 1000));
      });
      let loudFrames = 0;
      return {
        onPcm(pcm) {
          loudFrames = loud(pcm) ? loudFrames + 1 : 0;
          // 100 ms of the caller's voice while we speak: stop talking.
          if (loudFrames === 5 && ctx.queuedMs > 0) ctx.flush();
        },
        onDtmf(event) {
          if (event.digit === '#') ctx.hangup('agent_hangup', 'the caller pressed #');
          else ctx.sendDtmf(event.digit, { durationMs: 80 });
        },
        close() {},
      };
    }),
  );
}
