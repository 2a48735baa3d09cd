/** The transcript format of each agent: how one of its transcript files becomes session views. */
import type { AgentName } from '../../core/agent/session-spans.ts';
import { claudeCodeFormat } from './claude-code.ts';
import { codexFormat } from './codex.ts';
import { geminiFormat } from './gemini.ts';
import type { TranscriptParser } from './parser.ts';

export interface TranscriptFormat {
  /** A parser for one file, fed its lines in order from the start of the file. */
  createParser(file: string): TranscriptParser;
}

export const transcriptFormats: Partial<Record<AgentName, TranscriptFormat>> = {
  'claude-code': claudeCodeFormat,
  codex: codexFormat,
  'gemini-cli': geminiFormat,
};
