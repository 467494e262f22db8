// Parley's error vocabulary (STYLE.md rules 6 and 14), the base every area builds on:
// - an error code is `ERR_<AREA>_<REASON>` (upper snake case), carried by a typed ParleyError
//   subclass wherever an error crosses a module boundary;
// - a drop reason (why a hot path refused a datagram without throwing, STYLE.md rule 4) is
//   snake_case, and is what metrics count by.
// Each area defines its codes once with errorCatalog() and its reasons once with reasonCatalog(),
// each with a one-line meaning, in its own errors.ts; docs/errors.md is generated from them
// (src/cli/errors-doc.ts). Argument checks of encoders (a value no packet can carry) stay
// RangeError/TypeError: they are bugs in the caller, not conditions a caller handles.
export class ParleyError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One line of a catalog: a stable string (a code or a drop reason) and what it means. */
export interface CatalogEntry {
  readonly value: string;
  readonly meaning: string;
  /** For codes an HTTP API answers with: the response status. */
  readonly status?: number;
}

/** How errorCatalog() takes a code: `[code, meaning]`, or `[code, meaning, httpStatus]`. */
export type CodeDefinition<A extends string> = readonly [`ERR_${A}_${string}`, string] | readonly [`ERR_${A}_${string}`, string, number];

/** An area's error codes, as errorCatalog() returns them. */
export interface ErrorCatalog<A extends string = string, M extends Readonly<Record<string, string>> = Readonly<Record<string, string>>> {
  /** The AREA of `ERR_<AREA>_<REASON>`. */
  readonly area: A;
  /** Name → code, what call sites use: `SdpErrorCode.noOpus`. */
  readonly codes: M;
  /** Every code with its meaning, in the order defined. */
  readonly entries: readonly CatalogEntry[];
}

/** The union of a catalog's codes: `type SdpErrorCode = CodeOf<typeof SDP_ERRORS>`. */
export type CodeOf<T extends ErrorCatalog> = T['codes'][keyof T['codes']];

/** An area's drop reasons (or per-packet results, like an ICE agent's), as reasonCatalog() returns them. */
export interface ReasonCatalog<R extends string = string> {
  /** Which part of Parley gives these reasons (a heading of docs/errors.md). */
  readonly area: string;
  /** Every reason, in the order defined. */
  readonly reasons: readonly R[];
  readonly entries: readonly CatalogEntry[];
}

const CODE = /^ERR_[A-Z0-9]+(?:_[A-Z0-9]+)+$/;
const REASON = /^[a-z0-9]+(?:_[a-z0-9]+)*$/;

/**
 * Defines an area's error codes once: `{ Name: [code, 'one-line meaning'] }` with each code
 * `ERR_<AREA>_<REASON>` (and an HTTP status third, for an API's codes). The type requires the
 * `ERR_<AREA>_` prefix; the rest of the spelling and uniqueness are checked when the module
 * loads, so a misspelt code fails every test that imports it.
 */
export function errorCatalog<const A extends string, const D extends Readonly<Record<string, CodeDefinition<A>>>>(
  area: A,
  defs: D,
): ErrorCatalog<A, { readonly [K in keyof D]: D[K][0] }> {
  const codes: Record<string, string> = {};
  const entries: CatalogEntry[] = [];
  for (const [name, [code, meaning, status]] of Object.entries(defs)) {
    if (!CODE.test(code) || !code.startsWith(`ERR_${area}_`)) throw new TypeError(`${area}: '${code}' is not ERR_${area}_<REASON>`);
    if (entries.some((e) => e.value === code)) throw new TypeError(`${area}: '${code}' is defined twice`);
    codes[name] = code;
    entries.push(status === undefined ? { value: code, meaning } : { value: code, meaning, status });
  }
  return { area, codes: Object.freeze(codes) as { readonly [K in keyof D]: D[K][0] }, entries: Object.freeze(entries) };
}

/** Defines an area's drop reasons (or results) once: `{ snake_case_reason: 'one-line meaning' }`. */
export function reasonCatalog<const D extends Readonly<Record<string, string>>>(area: string, defs: D): ReasonCatalog<keyof D & string> {
  const entries: CatalogEntry[] = [];
  for (const [reason, meaning] of Object.entries(defs)) {
    if (!REASON.test(reason)) throw new TypeError(`${area}: drop reason '${reason}' is not snake_case`);
    entries.push({ value: reason, meaning });
  }
  return { area, reasons: Object.freeze(Object.keys(defs)) as readonly (keyof D & string)[], entries: Object.freeze(entries) };
}

/**
 * For errors that carry a drop reason (a refused SRTP or RTP packet): one code per reason,
 * `ERR_<AREA>_<REASON>`, with the reason's meaning; spread into errorCatalog() beside the
 * area's other codes.
 */
export function reasonCodes<const A extends string, R extends string>(
  area: A,
  reasons: ReasonCatalog<R>,
): { readonly [K in R]: readonly [`ERR_${A}_${Uppercase<K>}`, string] } {
  return Object.fromEntries(reasons.entries.map((e) => [e.value, [`ERR_${area}_${e.value.toUpperCase()}`, e.meaning]])) as unknown as {
    readonly [K in R]: readonly [`ERR_${A}_${Uppercase<K>}`, string];
  };
}
