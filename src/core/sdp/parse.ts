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
// A reader that needs only some fields (an offer's analysis, offer.ts) may skip every line whose
// candidate rules all set other fields: each rule sets only its own field, so the fields it keeps
// come out exactly as a full parse gives them (test/core/sdp/offer-fields-parse.test.ts).
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
  return credentialsAsText(parseLines(text, candidateRules));
}

/**
 * A parser that reads only the lines that can set one of `fields` (sdp-transform's names:
 * `iceUfrag`, `rtp`, `type`…, at session and media level): those fields are exactly parseSdp's,
 * every other field may be missing. A line is skipped only when none of the rules it could match
 * sets a kept field, so which rule takes a line that is read is sdp-transform's first match.
 */
export function sdpFieldParser(fields: readonly string[]): (text: string) => SessionDescription {
  const keep = new Set(fields);
  const keeps = (rule: GrammarRule): boolean => ruleFields(rule).some((f) => keep.has(f));
  const cache = new Map<string, readonly GrammarRule[]>();
  const rulesFor = (type: string, content: string): readonly GrammarRule[] => {
    const key = ruleKey(type, content);
    let list = cache.get(key);
    if (list !== undefined) return list;
    const all = candidateRules(type, content);
    list = all.some(keeps) ? all : NONE;
    if (cache.size >= MAX_CACHED_NAMES) cache.clear();
    cache.set(key, list);
    return list;
  };
  return (text) => credentialsAsText(parseLines(text, rulesFor));
}

/** The fields a rule sets (lib/parser.js's parseReg): its `push` list, its `name`, or else each of its `names`. */
function ruleFields(rule: GrammarRule): readonly string[] {
  if (rule.push !== undefined) return [rule.push];
  if (rule.name !== undefined) return [rule.name];
  return rule.names ?? [];
}

function credentialsAsText(sdp: SessionDescription): SessionDescription {
  credentialAsText(sdp);
  for (const m of sdp.media ?? []) credentialAsText(m);
  return sdp;
}

function credentialAsText(x: { iceUfrag?: string; icePwd?: string }): void {
  if (x.iceUfrag !== undefined) x.iceUfrag = String(x.iceUfrag);
  if (x.icePwd !== undefined) x.icePwd = String(x.icePwd);
}

const VALID_LINE = /^([a-z])=(.*)/;

/** sdp-transform's parser.parse (lib/parser.js), rule for rule, with `rulesFor` (candidateRules()) in place of the whole list. */
function parseLines(sdp: string, rulesFor: (type: string, content: string) => readonly GrammarRule[]): SessionDescription {
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
    for (const rule of rulesFor(type, content)) {
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

/**
 * `^(sendrecv|recvonly|sendonly|inactive)`: the words of a leading group of plain-word
 * alternatives, one of which the content must start with; undefined for any other form.
 */
export function alternativeStarts(reg: RegExp): readonly string[] | undefined {
  if (reg.flags !== '') return undefined;
  const m = /^\^\(((?:[a-z][a-z0-9-]*\|)+[a-z][a-z0-9-]*)\)/.exec(reg.source);
  if (!m) return undefined;
  const next = reg.source[m[0].length];
  // As in literalStart: nothing after the group may make it optional or repeat it.
  if (next !== undefined && '?*+{|'.includes(next)) return undefined;
  return m[1].split('|');
}

/** Each line type's rules with the starts one of which a matching content has (undefined: cannot be told), in grammar order. */
const RULES = new Map<string, { rule: GrammarRule; starts: readonly string[] | undefined }[]>(
  Object.entries(GRAMMAR).map(([type, rules]) => [
    type,
    rules.map((rule) => {
      const start = literalStart(rule.reg);
      return { rule, starts: start !== undefined ? [start] : alternativeStarts(rule.reg) };
    }),
  ]),
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
  const key = ruleKey(type, content);
  let list = CANDIDATES.get(key);
  if (list !== undefined) return list;
  const colon = content.indexOf(':');
  const name = colon < 0 ? content : content.slice(0, colon);
  // A rule's start ending in ':' names the attribute whole; one without ':' is a prefix of the name.
  const fits = (start: string): boolean => (start.endsWith(':') ? colon >= 0 && start === `${name}:` : name.startsWith(start));
  list = rules.filter(({ starts }) => starts === undefined || starts.some(fits)).map(({ rule }) => rule);
  if (CANDIDATES.size >= MAX_CACHED_NAMES) CANDIDATES.clear();
  CANDIDATES.set(key, list);
  return list;
}

/** Line types with a rule whose start can be told (`a`): the others' candidates are all their rules. */
const NAMED_TYPES = new Set([...RULES].filter(([, rules]) => rules.some(({ starts }) => starts !== undefined)).map(([type]) => type));

/** What candidateRules() depends on: the line type, and for a named type the attribute name and whether a ':' follows it. */
function ruleKey(type: string, content: string): string {
  if (!NAMED_TYPES.has(type)) return type;
  const colon = content.indexOf(':');
  return colon < 0 ? `${type}${content}` : `${type}:${content.slice(0, colon)}`;
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
