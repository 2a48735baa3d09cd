/**
 * What the transcripts receiver asks of each agent's transcript format: turn one file's lines,
 * in order, into session views. A parser lives as long as its file is tailed and always sees the
 * file from its first line: after a restart the receiver replays the lines before the saved
 * offset to a new parser (dropping their views) before it reads on. Views of one span from
 * different lines (and files, and capture paths) merge downstream by their deterministic ids;
 * the receiver coalesces those of one batch of lines (receivers/transcripts/coalesce.ts), the
 * later view's attributes winning.
 */
import type { SessionCapture } from '../../core/agent/session-spans.ts';

export interface TranscriptParser {
  /** One complete line (without its newline). Never throws: a line it cannot use is counted in `skipped`. */
  parseLine(line: string): SessionCapture[];
  /** Lines skipped so far by reason ("broken JSON", "record type queue-operation", …). */
  readonly skipped: Map<string, number>;
}
