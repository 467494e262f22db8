// The realtime handler's end-to-end tests (realtime-handler.test.ts: tones both ways through the
// relay, barge-in within 150 ms, 502s, agent_closed) again with the Opus work on a codec thread:
// `parley dev --codec-threads 1` (PARLEY_CODEC_THREADS reaches dev, which passes the flag on).
process.env.PARLEY_CODEC_THREADS = '1';
await import('./realtime-handler.test.ts');
