/** CPU time of a running process by thread group, from /proc (Linux): where a process spends its CPU. */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU ms per thread group: `main` (the JS thread), else the thread's name without its number
 * (`node`: V8's helpers, mostly garbage collection; chdb's `ThreadPool` runs queries and
 * `MergeMutate` merges parts). Threads that ended are missing: compare snapshots of long-lived ones.
 */
export function threadCpuMs(pid: number): Map<string, number> {
  const ticksMs = 10; // USER_HZ = 100 on Linux
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * ticksMs);
  }
  return out;
}

/** "total (group n, ...)" in µs per item, between two snapshots, groups of at least 1 µs. */
export function cpuPerItem(before: Map<string, number>, after: Map<string, number>, items: number): string {
  const groups = [...after].map(([name, ms]) => [name, ((ms - (before.get(name) ?? 0)) * 1_000) / items] as const).sort((a, b) => b[1] - a[1]);
  const total = groups.reduce((n, [, us]) => n + us, 0);
  return `${total.toFixed(0)} (${groups.filter(([, us]) => us >= 1).map(([name, us]) => `${name} ${us.toFixed(0)}`).join(', ')})`;
}
