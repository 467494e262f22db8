// A speech-like test signal (a gliding pitch with a syllable-rate envelope: concealment cannot
// just extrapolate it) and the signal-to-noise ratio of a decoded frame against a reference, for
// the loss-recovery tests.
export function glide(frames: number, rate = 16000): Int16Array[] {
  const n = rate / 50;
  let phase = 0;
  return Array.from({ length: frames }, (_, i) =>
    Int16Array.from({ length: n }, (_, j) => {
      const t = (i * n + j) / rate;
      phase += (2 * Math.PI * (300 + 200 * Math.sin(2 * Math.PI * 0.7 * t))) / rate;
      return Math.round(8000 * Math.sin(phase) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t)));
    }),
  );
}

export function snrDb(x: Int16Array, ref: Int16Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < ref.length; i++) {
    s += ref[i] ** 2;
    e += (x[i] - ref[i]) ** 2;
  }
  return 10 * Math.log10(s / Math.max(e, 1));
}
