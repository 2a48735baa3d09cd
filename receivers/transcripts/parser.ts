/**
 * What the transcripts receiver asks of each agent's transcript format: turn one file's lines,
 * in order, into session views. A parser lives as long as its file is tailed; after a restart a
 * new parser resumes at the saved offset, so no view may depend on lines it did not see (the
 * deterministic span ids make views of one span from different lines merge downstream).
 */
import type { SessionCapture } from '../../core/agent/session-spans.ts';

export interface TranscriptParser {
  /** One complete line (without its newline). Never throws: a line it cannot use is counted in `skipped`. */
  parseLine(line: string): SessionCapture[];
  /** Lines skipped so far by reason ("broken JSON", "record type queue-operation", …). */
  readonly skipped: Map<string, number>;
}
