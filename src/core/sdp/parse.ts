// SDP text → sdp-transform's SessionDescription, with the ICE credentials as the text they were.
// Every SDP this project reads (offers in the transceiver, answers in `parley call`) goes through
// parseSdp, so both corrections below are made in one place.
//
// The lines are parsed by sdp-transform's own grammar (its rules, names and order), but each
// line is tried only against the rules that can match it: sdp-transform's parse() tries an
// `a=` line against each of its ~56 rules in turn until one matches, ~1 700 regular-expression
// tests for a browser's offer, which were most of an offer's ~250 µs on the POST (issue #18).
// Every rule is anchored (`^`), so a rule whose literal start (`rtcp-fb:`, `ice-ufrag:`) is not
// where the line starts can never match it; skipping those leaves the first match, and so the
// result, exactly sdp-transform's (test/core/sdp/parse-matches-sdp-transform.test.ts).
import * as sdpTransform from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';

/** One rule of sdp-transform's grammar (lib/grammar.js; every rule has `reg` once the module is loaded). */
interface GrammarRule {
  readonly name?: string;
  readonly push?: string;
  readonly reg: RegExp;
  readonly names?: readonly string[];
}

const GRAMMAR = (sdpTransform as unknown as { grammar: Record<string, readonly GrammarRule[]> }).grammar;

type Location = Record<string, unknown>;

/**
 * sdp-transform's parse, with a=ice-ufrag and a=ice-pwd (session and media level) as strings.
 * sdp-transform turns every attribute value that reads as a canonical integer into a number, so
 * `a=ice-ufrag:72686251` became 72686251 — and a number never equals the ufrag a peer's checks
 * carry in USERNAME, so every check of such a call was refused with 401 and the call never
 * connected. Firefox's ufrags are 8 hex digits: all decimal digits in (10/16)^8 ≈ 2.3 % of
 * calls. sdp-transform converts only when String(Number(v)) === v, so String() restores the
 * exact text (leading zeros and longer digit runs were never converted).
 */
export function parseSdp(text: string): SessionDescription {
  const sdp = parseLines(text);
  credentialsAsText(sdp);
  for (const m of sdp.media ?? []) credentialsAsText(m);
  return sdp;
}

function credentialsAsText(x: { iceUfrag?: string; icePwd?: string }): void {
  if (x.iceUfrag !== undefined) x.iceUfrag = String(x.iceUfrag);
  if (x.icePwd !== undefined) x.icePwd = String(x.icePwd);
}

const VALID_LINE = /^([a-z])=(.*)/;

/** sdp-transform's parser.parse (lib/parser.js), rule for rule, with candidateRules() in place of the whole list. */
function parseLines(sdp: string): SessionDescription {
  const session: Location = {};
  const media: Location[] = [];
  let location = session;
  for (const l of sdp.split(/(\r\n|\r|\n)/)) {
    if (!VALID_LINE.test(l)) continue;
    const type = l[0];
    const content = l.slice(2);
    if (type === 'm') {
      media.push({ rtp: [], fmtp: [] });
      location = media[media.length - 1];
    }
    // One exec where sdp-transform tests and then matches (no rule has the g or y flag: the same match).
    for (const rule of candidateRules(type, content)) {
      const match = rule.reg.exec(content);
      if (match !== null) {
        parseRule(rule, location, match);
        break;
      }
    }
  }
  session.media = media;
  return session as unknown as SessionDescription;
}

/** What a rule's expression must start with (its text up to the first special character or ':'), or undefined when that cannot be told. */
export function literalStart(reg: RegExp): string | undefined {
  if (reg.flags !== '') return undefined;
  const m = /^\^\(?([a-z][a-z0-9-]*:?)/.exec(reg.source);
  if (!m) return undefined;
  const lit = m[1];
  const next = reg.source[m[0].length];
  // `^(sendrecv|recvonly…)`: an alternation inside the group has no one start.
  if (reg.source[1] === '(' && next !== ')') return undefined;
  // The literal must be required as a whole: nothing after it may make its last character
  // optional or repeat it (`a?`, `a*`, `a{0,1}`, `a|b`); ')' '(' '[' ' ' '$' '\\' cannot.
  if (next !== undefined && '?*+{|'.includes(next)) return undefined;
  return lit;
}

/** Each line type's rules with their literal starts, in grammar order. */
const RULES = new Map<string, { rule: GrammarRule; start: string | undefined }[]>(
  Object.entries(GRAMMAR).map(([type, rules]) => [type, rules.map((rule) => ({ rule, start: literalStart(rule.reg) }))]),
);
/** The candidate rules per line type and attribute name (the text before the first ':'), built on first use. */
const CANDIDATES = new Map<string, readonly GrammarRule[]>();
/** Bounds the cache: offers from the internet name any attribute they like. */
const MAX_CACHED_NAMES = 512;
const NONE: readonly GrammarRule[] = [];

/**
 * The rules of `type` that may match `content`, in grammar order: those whose literal start the
 * content begins with, and those whose start cannot be told. Only `a=` lines have names worth
 * keying by; other types have a rule or two.
 */
function candidateRules(type: string, content: string): readonly GrammarRule[] {
  const rules = RULES.get(type);
  if (rules === undefined) return NONE;
  const colon = content.indexOf(':');
  const name = colon < 0 ? content : content.slice(0, colon);
  const key = `${type}${colon < 0 ? '' : ':'}${name}`;
  let list = CANDIDATES.get(key);
  if (list !== undefined) return list;
  // A rule's start ending in ':' names the attribute whole; one without ':' is a prefix of the name.
  list = rules
    .filter(({ start }) => start === undefined || (start.endsWith(':') ? colon >= 0 && start === `${name}:` : name.startsWith(start)))
    .map(({ rule }) => rule);
  if (CANDIDATES.size >= MAX_CACHED_NAMES) CANDIDATES.clear();
  CANDIDATES.set(key, list);
  return list;
}

/** lib/parser.js's toIntIfInt. */
function intIfInt(v: string): string | number {
  return String(Number(v)) === v ? Number(v) : v;
}

/** lib/parser.js's parseReg and attachProperties. */
function parseRule(rule: GrammarRule, location: Location, match: RegExpExecArray): void {
  const needsBlank = rule.name !== undefined && rule.names !== undefined;
  if (rule.push !== undefined && !location[rule.push]) location[rule.push] = [];
  else if (needsBlank && !location[rule.name!]) location[rule.name!] = {};
  const target: Location = rule.push !== undefined ? {} : needsBlank ? (location[rule.name!] as Location) : location;
  if (rule.name !== undefined && rule.names === undefined) {
    target[rule.name] = intIfInt(match[1]);
  } else {
    const names = rule.names!;
    for (let i = 0; i < names.length; i++) if (match[i + 1] != null) target[names[i]] = intIfInt(match[i + 1]);
  }
  if (rule.push !== undefined) (location[rule.push] as Location[]).push(target);
}
