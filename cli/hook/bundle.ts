/**
 * `agentotel hook` as one plain JavaScript file, so that a hook starts as fast as node itself:
 * through tsx's loader it would spend 0.3 s (1 s on a busy machine) before its first line runs,
 * on every hook event. bin/agentotel.js runs the bundle when its manifest still matches the
 * sources' modification times, and rebuilds it (here) when not. `agentotel init` builds it too.
 */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Read by bin/agentotel.js: keep the names in step with it. */
export const HOOK_BUNDLE_DIR = path.join(root, 'node_modules', '.cache', 'agentotel');
const BUNDLE = 'hook.mjs';
const MANIFEST = 'hook.json';

/** Builds the bundle and its manifest (`inputs`: source path relative to the repository → mtime in ms). */
export async function bundleHook(): Promise<string> {
  const esbuild = await import('esbuild');
  await mkdir(HOOK_BUNDLE_DIR, { recursive: true });
  const temp = (name: string) => path.join(HOOK_BUNDLE_DIR, `${name}.${process.pid}.tmp`);
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['cli/hook.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: temp(BUNDLE),
    metafile: true,
    logLevel: 'silent',
  });
  const inputs: Record<string, number> = {};
  for (const input of Object.keys(result.metafile.inputs)) inputs[input] = (await stat(path.join(root, input))).mtimeMs;
  await writeFile(temp(MANIFEST), JSON.stringify({ inputs }));
  await rename(temp(BUNDLE), path.join(HOOK_BUNDLE_DIR, BUNDLE));
  await rename(temp(MANIFEST), path.join(HOOK_BUNDLE_DIR, MANIFEST)); // last: a manifest always names a complete bundle
  return path.join(HOOK_BUNDLE_DIR, BUNDLE);
}
