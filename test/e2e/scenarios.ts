/**
 * The Claude Code sessions of the end-to-end test: what the user asks (one or more runs of
 * `claude -p`) and what the scripted model answers. Tool use ids carry a tag so every session
 * of a test run has its own.
 */
import type { Script, ScriptedReply, ScriptedToolUse, Usage } from './scripted-model.ts';

export interface ScenarioRun {
  prompt: string;
  /** `--resume <session id of the first run>`. */
  resume: boolean;
}

export interface Scenario {
  name: string;
  runs: ScenarioRun[];
  /** Files of the project folder before the first run. */
  files: Record<string, string>;
  /** The tools that run without a permission prompt (`--allowedTools`). */
  allowedTools: string;
  script(projectDir: string, tag: string): Script;
  /** The tool uses meant to fail: the CLI must report them to the model as errors. */
  failingTools(tag: string): string[];
}

const usage = (input: number, output: number, cacheRead: number, cacheCreation: number): Usage => ({
  input_tokens: input,
  output_tokens: output,
  cache_read_input_tokens: cacheRead,
  cache_creation_input_tokens: cacheCreation,
});

const tool = (id: string, name: string, input: Record<string, unknown>): ScriptedToolUse => ({ id, name, input });
const reply = (text: string, u: Usage, ...tools: ScriptedToolUse[]): ScriptedReply => ({ text, usage: u, tools });

const README = '# notes\n\nA tiny notes keeper.\n';

const severalTools: Scenario = {
  name: 'several tools',
  runs: [{ prompt: 'Add a greet.sh script that prints a greeting, then run it.', resume: false }],
  files: { 'README.md': README },
  allowedTools: 'Bash Read Edit Write',
  script: (dir, tag) => ({
    'Add a greet.sh script that prints a greeting, then run it.': [
      reply(
        'Looking at the project first.',
        usage(3, 81, 0, 14_210),
        tool(`toolu_01A${tag}1read`, 'Read', { file_path: `${dir}/README.md` }),
        tool(`toolu_01A${tag}2ls`, 'Bash', { command: 'ls', description: 'List the project files' }),
      ),
      reply(
        'Writing the script.',
        usage(1, 120, 14_210, 402),
        tool(`toolu_01A${tag}3write`, 'Write', { file_path: `${dir}/greet.sh`, content: 'echo hello\n' }),
      ),
      reply(
        'Making the greeting friendlier.',
        usage(1, 96, 14_612, 230),
        tool(`toolu_01A${tag}4edit`, 'Edit', { file_path: `${dir}/greet.sh`, old_string: 'echo hello', new_string: "echo 'hello, world'" }),
      ),
      reply(
        'Running it.',
        usage(1, 64, 14_842, 188),
        tool(`toolu_01A${tag}5bash`, 'Bash', { command: 'sh greet.sh', description: 'Run greet.sh' }),
      ),
      reply('Done: `sh greet.sh` prints `hello, world`.', usage(1, 31, 15_030, 97)),
    ],
  }),
  failingTools: () => [],
};

const failingTool: Scenario = {
  name: 'a failing tool',
  runs: [{ prompt: 'Run the checks and tell me whether they pass.', resume: false }],
  files: { 'README.md': README, 'check.sh': "echo 'check: 1 failure' >&2\nexit 1\n" },
  allowedTools: 'Bash Read',
  script: (_dir, tag) => ({
    'Run the checks and tell me whether they pass.': [
      reply(
        'Running the checks.',
        usage(3, 58, 0, 14_198),
        tool(`toolu_01B${tag}1check`, 'Bash', { command: 'sh check.sh', description: 'Run the checks' }),
      ),
      // The API is overloaded once: the CLI retries, and only the retry is a model call.
      {
        ...reply(
          'The check failed; rerunning it verbosely.',
          usage(1, 84, 14_198, 266),
          tool(`toolu_01B${tag}2again`, 'Bash', { command: 'sh -x check.sh', description: 'Rerun verbosely' }),
        ),
        failFirst: { times: 1, error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } },
      },
      reply(
        'Then a plain listing, which works.',
        usage(1, 40, 14_464, 120),
        tool(`toolu_01B${tag}3ls`, 'Bash', { command: 'ls', description: 'List files' }),
      ),
      reply('The checks fail: check.sh reports 1 failure and exits 1.', usage(1, 47, 14_584, 352)),
    ],
  }),
  failingTools: (tag) => [`toolu_01B${tag}1check`, `toolu_01B${tag}2again`],
};

const resumed: Scenario = {
  name: 'a resumed second prompt',
  runs: [
    { prompt: 'What is this project? Keep it short.', resume: false },
    { prompt: "Append the line 'resumed' to notes.txt.", resume: true },
  ],
  files: { 'README.md': README, 'notes.txt': 'first\n' },
  allowedTools: 'Bash Read Edit',
  script: (dir, tag) => ({
    'What is this project? Keep it short.': [
      reply('Let me read the README.', usage(3, 61, 0, 14_302), tool(`toolu_01C${tag}1read`, 'Read', { file_path: `${dir}/README.md` })),
      reply('A tiny notes keeper.', usage(1, 48, 14_302, 215)),
    ],
    "Append the line 'resumed' to notes.txt.": [
      reply(
        'Appending.',
        usage(3, 72, 14_517, 1_012),
        tool(`toolu_01C${tag}2bash`, 'Bash', { command: 'echo resumed >> notes.txt', description: 'Append a line' }),
      ),
      reply("notes.txt now ends with 'resumed'.", usage(1, 39, 15_529, 98)),
    ],
  }),
  failingTools: () => [],
};

const SUBAGENT_TASK = 'Count the lines of README.md and report the number.';

const subagent: Scenario = {
  name: 'a subagent',
  runs: [{ prompt: 'Ask a helper agent how many lines README.md has.', resume: false }],
  files: { 'README.md': README },
  allowedTools: 'Bash Read Agent',
  script: (_dir, tag) => ({
    'Ask a helper agent how many lines README.md has.': [
      reply(
        'Delegating to a helper.',
        usage(3, 90, 0, 14_400),
        // Foreground, on the haiku model: the subagent's calls are a second model in the session.
        tool(`toolu_01D${tag}1agent`, 'Agent', {
          description: 'Count README lines',
          prompt: SUBAGENT_TASK,
          subagent_type: 'general-purpose',
          model: 'haiku',
          run_in_background: false,
        }),
      ),
      reply('README.md has 3 lines.', usage(1, 22, 14_400, 310)),
    ],
    [SUBAGENT_TASK]: [
      reply(
        'Counting.',
        usage(5, 20, 0, 4_100),
        tool(`toolu_01D${tag}2wc`, 'Bash', { command: 'wc -l README.md', description: 'Count lines' }),
      ),
      reply('README.md has 3 lines.', usage(1, 12, 4_100, 40)),
    ],
  }),
  failingTools: () => [],
};

export const SCENARIOS: Scenario[] = [severalTools, failingTool, resumed, subagent];
