// PROPOSAL (not yet part of ../media-handler.ts): an optional pull side for handlers that
// generate audio rather than react to it (tone, TTS playout, a model's buffered reply).
// Handlers have no timers of their own; the session already ticks every 20 ms to pace its
// outbound queue, so when that queue is empty it asks the handler for one frame:
//
//   on each 20 ms tick: if (queue is empty && handler.pull) { const p = handler.pull(); if (p) send(p) }
//
// pull() returns one 20 ms Opus packet, or undefined for "nothing now" (the session then sends
// nothing; Opus/RTP tolerate gaps, RFC 7587 §3.1.3 DTX). Like onAudio it must not throw; the
// session contains and counts errors. Until the session calls pull(), handlers written with it
// fall back to pushing one frame per inbound frame through ctx.send (see tone.ts).
import type { MediaHandler } from './media-handler.ts';

export interface PullMediaHandler extends MediaHandler {
  /** One 20 ms Opus packet to send now, or undefined when the handler has nothing. */
  pull?(): Buffer | undefined;
}

/**
 * True when `handler` offers pull(), for sessions that support the proposal. A wrapper that
 * always has pull() (containHandler) says with `pulls: false` that the handler inside does not.
 */
export function canPull(handler: MediaHandler): handler is PullMediaHandler & { pull(): Buffer | undefined } {
  const h = handler as PullMediaHandler & { pulls?: unknown };
  return typeof h.pull === 'function' && h.pulls !== false;
}
