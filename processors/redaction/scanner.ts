/**
 * The secret scanner: the detectors' passes (detectors.ts) and the configured patterns, each
 * pass one combined regex whose alternatives are named groups `d<i>` (the group that matched
 * names the detector). A string without a detection costs the gated passes' indexOf checks and
 * the other passes' regex scans, and no allocation.
 */
import type { CustomPattern } from './config.ts';
import { BUILTIN_PASSES, redacted, tokenStartsAt, type Detection, type Detector, type Pass } from './detectors.ts';

/** kind -> number of redactions. */
export type KindCounts = Map<string, number>;

export const countKind = (counts: KindCounts, kind: string, n = 1): void => {
  counts.set(kind, (counts.get(kind) ?? 0) + n);
};

export interface ScannerOptions {
  patterns: CustomPattern[];
  allow: string[];
  disabledDetectors: string[];
}

/** Values shorter than this are not remembered: redacting every "abc" would shred the text. */
const MIN_LEARNED_LENGTH = 6;

/**
 * A configured pattern as a detector: its named groups get a prefix of their own (two patterns
 * may use the same names), and a group named `secret` limits what is replaced to that part.
 */
function customDetector(pattern: CustomPattern, i: number): Detector {
  const prefix = `c${i}_`;
  const source = pattern.regex
    .replace(/\(\?<([A-Za-z_$][\w$]*)>/g, `(?<${prefix}$1>`)
    .replace(/\\k<([A-Za-z_$][\w$]*)>/g, `\\k<${prefix}$1>`);
  const secretGroup = `${prefix}secret`;
  return {
    name: pattern.name,
    kinds: [pattern.name],
    source,
    replace: (m) => {
      const secret = m.groups[secretGroup];
      if (secret === undefined || secret === '') return { kind: pattern.name, secret: m.value, text: redacted(pattern.name) };
      const at = m.value.lastIndexOf(secret);
      return { kind: pattern.name, secret, text: m.value.slice(0, at) + redacted(pattern.name) + m.value.slice(at + secret.length) };
    },
  };
}

/** One pass, compiled. */
class CompiledPass {
  private readonly groupNames: string[];
  private readonly regex: RegExp;

  constructor(
    readonly pass: Pass,
    private readonly allow: RegExp[],
  ) {
    this.groupNames = pass.detectors.map((_, i) => `d${i}`);
    const source = pass.detectors.map((d, i) => `(?<${this.groupNames[i]}>${d.source})`).join('|');
    this.regex = new RegExp(source, pass.caseInsensitive ? 'gi' : 'g');
  }

  /** What String.replace with a callback does, as an exec loop that can also replace left context and rejects matches that are no secret. */
  redact(text: string, counts: KindCounts, learned: Map<string, string>): string {
    const gate = this.pass.gate;
    if (gate && !gate.some((g) => text.includes(g))) return text;
    const regex = this.regex;
    regex.lastIndex = 0;
    let out = '';
    let copied = 0;
    let replaced = false;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const d = this.detection(text, m);
      if (!d) {
        // Not a secret after all: the other detectors get their chance inside the match.
        regex.lastIndex = m.index + 1;
        continue;
      }
      out += text.slice(copied, Math.max(copied, m.index - (d.back ?? 0))) + d.text;
      copied = m.index + m[0].length;
      replaced = true;
      countKind(counts, d.kind);
      if (d.learn && d.secret.length >= MIN_LEARNED_LENGTH) learned.set(d.secret, d.kind);
      if (m[0].length === 0) regex.lastIndex++; // as replace does: an empty match moves on by one
    }
    return replaced ? out + text.slice(copied) : text;
  }

  private detection(input: string, m: RegExpExecArray): Detection | undefined {
    const groups = m.groups!;
    let i = 0;
    while (groups[this.groupNames[i]!] === undefined) i++;
    const detector = this.pass.detectors[i]!;
    if (detector.token && !tokenStartsAt(input, m.index)) return undefined;
    const value = m[0];
    const d = detector.replace
      ? detector.replace({ input, index: m.index, value, groups })
      : { kind: detector.name, secret: value, text: redacted(detector.name) };
    if (!d || this.allow.some((a) => a.test(d.secret))) return undefined;
    return d;
  }
}

export class SecretScanner {
  private readonly passes: CompiledPass[];

  constructor(options: ScannerOptions) {
    const disabled = new Set(options.disabledDetectors);
    const allow = options.allow.map((source) => new RegExp(source));
    const passes: Pass[] = [
      { name: 'configured patterns', detectors: options.patterns.map(customDetector) },
      ...BUILTIN_PASSES.map((p) => ({ ...p, detectors: p.detectors.filter((d) => !disabled.has(d.name)) })),
    ];
    this.passes = passes.filter((p) => p.detectors.length > 0).map((p) => new CompiledPass(p, allow));
  }

  /** Every kind this scanner can report. */
  kinds(): string[] {
    return [...new Set(this.passes.flatMap((p) => p.pass.detectors.flatMap((d) => d.kinds)))];
  }

  /**
   * Redacts every detection in `text`, counting them in `counts`; values recognised only by
   * their context are added to `learned` (value -> kind).
   */
  redact(text: string, counts: KindCounts, learned: Map<string, string>): string {
    let out = text;
    for (const pass of this.passes) out = pass.redact(out, counts, learned);
    return out;
  }
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Redacts the exact values learned earlier in the trace (see Detection.learn). */
export class LearnedSecrets {
  private readonly regex: RegExp;

  constructor(private readonly values: ReadonlyMap<string, string>) {
    const alternatives = [...values.keys()].sort((a, b) => b.length - a.length).map(escapeRegex);
    this.regex = new RegExp(alternatives.join('|'), 'g');
  }

  redact(text: string, counts: KindCounts): string {
    return text.replace(this.regex, (match) => {
      const kind = this.values.get(match)!;
      countKind(counts, kind);
      return redacted(kind);
    });
  }
}
