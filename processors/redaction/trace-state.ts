/**
 * What the processor remembers about a trace (a session) between its messages, for the most
 * recently seen traces: the values its spans revealed by context (a password after
 * `password=`), redacted wherever the session repeats them, and who the session belongs to (a
 * later span without a team or user gets the tier of the team an earlier span named).
 */
import type { KindCounts } from './scanner.ts';
import { LearnedSecrets } from './scanner.ts';

const MAX_TRACES = 10_000;
const MAX_LEARNED_PER_TRACE = 200;

export class TraceState {
  /** value -> kind, oldest first. */
  readonly learned = new Map<string, string>();
  team: string | undefined;
  users: string[] = [];
  private compiled: LearnedSecrets | undefined;
  private compiledSize = 0;

  /** The learned values redacted in `text`; the regex is rebuilt only when values were added. */
  redactLearned(text: string, counts: KindCounts): string {
    if (this.learned.size === 0) return text;
    if (!this.compiled || this.compiledSize !== this.learned.size) {
      while (this.learned.size > MAX_LEARNED_PER_TRACE) this.learned.delete(this.learned.keys().next().value!);
      this.compiled = new LearnedSecrets(this.learned);
      this.compiledSize = this.learned.size;
    }
    return this.compiled.redact(text, counts);
  }
}

/** The states of the most recently used traces. */
export class TraceStates {
  private readonly states = new Map<string, TraceState>();

  get(traceId: string): TraceState {
    let state = this.states.get(traceId);
    if (state)
      this.states.delete(traceId); // re-inserted as the most recently used
    else state = new TraceState();
    this.states.set(traceId, state);
    if (this.states.size > MAX_TRACES) this.states.delete(this.states.keys().next().value!);
    return state;
  }
}
