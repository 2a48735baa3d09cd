#!/usr/bin/env node
// The agentotel CLI. Sources are TypeScript, run through tsx's loader (no build step).
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const register = async () => (await import('tsx/esm/api')).register();

/**
 * `agentotel hook` runs inside the agent's wait: from the plain-JS bundle of cli/hook.ts when
 * its manifest matches the sources (no loader to start), else from source, bundling it for the
 * next time (cli/hook/bundle.ts).
 */
async function hookModule() {
  try {
    const dir = path.join(root, 'node_modules', '.cache', 'agentotel');
    const { inputs } = JSON.parse(readFileSync(path.join(dir, 'hook.json'), 'utf8'));
    if (Object.entries(inputs).every(([file, mtimeMs]) => statSync(path.join(root, file)).mtimeMs === mtimeMs)) {
      return await import(pathToFileURL(path.join(dir, 'hook.mjs')).href);
    }
  } catch {
    // no bundle yet, or a source is gone: from source
  }
  await register();
  await import('../cli/hook/bundle.ts').then((b) => b.bundleHook()).catch(() => undefined);
  return import('../cli/hook.ts');
}

if (process.argv[2] === 'hook') {
  await (await hookModule()).runHook(process.argv.slice(3));
} else {
  await register();
  await import('../cli/main.ts');
}
