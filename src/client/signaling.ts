// WHIP-style signaling for the client (DESIGN.md "Signaling API"): POST the SDP offer, read the
// 201 answer and its Location, DELETE that Location to hang up, GET it for the session state.
// Uses Node's fetch; every request has a deadline so a dead server cannot hang a call.
import { ClientError, ClientErrorCode } from './errors.ts';

export interface SignalingOptions {
  readonly bearer?: string;
  /** Per request, ms; default 10 s. */
  readonly timeoutMs?: number;
}

export interface PostedCall {
  readonly answer: string;
  /** Absolute URL of the call resource (Location resolved against the POST URL). */
  readonly location: string | undefined;
}

function headers(o: SignalingOptions, extra: Record<string, string> = {}): Record<string, string> {
  return o.bearer !== undefined ? { ...extra, authorization: `Bearer ${o.bearer}` } : extra;
}

/**
 * Node's fetch compiles its HTTP client lazily on first use (40-100 ms on this machine). A call
 * warms it up before starting its connect clock, so "POST → connected" measures the network and
 * the server rather than our own module loading. A data: URL touches no network.
 */
export async function warmUpFetch(): Promise<void> {
  await (await fetch('data:,')).arrayBuffer();
}

/**
 * Why a fetch() rejected, in words an operator can act on. Node's fetch says only "fetch failed"
 * and hides the reason in `cause`: a system error ("connect ECONNREFUSED 127.0.0.1:8080",
 * "getaddrinfo ENOTFOUND host"), for a name with several addresses an AggregateError of one per
 * address, or a TLS error; a deadline rejects with a TimeoutError and no cause.
 */
function fetchFailure(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  if (e?.name === 'TimeoutError') return 'no answer before the deadline (timed out)';
  const cause = e?.cause as (Error & { code?: string; errors?: unknown[] }) | undefined;
  if (!cause) return e?.message ?? String(err);
  const parts = Array.isArray(cause.errors) && cause.errors.length > 0 ? (cause.errors as Error[]) : [cause];
  const reasons = [...new Set(parts.map((p) => p.message || (p as { code?: string }).code || String(p)))];
  return reasons.join('; ');
}

/** POSTs the offer; throws ClientError(Signaling) unless the server answers 201 with SDP. */
export async function postOffer(url: string, offer: string, o: SignalingOptions = {}): Promise<PostedCall> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: headers(o, { 'content-type': 'application/sdp', accept: 'application/sdp' }),
      body: offer,
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    throw new ClientError(ClientErrorCode.Signaling, `POST ${url} failed: ${fetchFailure(err)}`, { cause: err });
  }
  const body = await res.text();
  if (res.status !== 201) {
    const retry = res.headers.get('retry-after');
    throw new ClientError(
      ClientErrorCode.Signaling,
      `POST ${url} → ${res.status} ${res.statusText}${retry ? ` (Retry-After: ${retry})` : ''}: ${body.slice(0, 300).trim()}`,
      { httpStatus: res.status },
    );
  }
  const loc = res.headers.get('location');
  return { answer: body, location: loc ? new URL(loc, url).toString() : undefined };
}

/** DELETEs the call (WHIP hang-up). Returns the status, or undefined when the request failed. */
export async function deleteCall(location: string, o: SignalingOptions = {}): Promise<number | undefined> {
  try {
    const res = await fetch(location, { method: 'DELETE', headers: headers(o), signal: AbortSignal.timeout(o.timeoutMs ?? 5_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

/** GETs the call's state JSON, or undefined when the request failed or was not JSON. */
export async function getCall(location: string, o: SignalingOptions = {}): Promise<unknown> {
  try {
    const res = await fetch(location, {
      headers: headers(o, { accept: 'application/json' }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 5_000),
    });
    return res.ok ? await res.json() : undefined;
  } catch {
    return undefined;
  }
}
