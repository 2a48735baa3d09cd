/**
 * Accumulates rows across export calls and flushes them as one insert per table, when
 * `maxSize` rows are pending or `timeoutMs` after the first pending row. One flush runs at a
 * time; each caller's promise settles with the flush that carried its rows.
 */
export interface BatchPart<K, R, P> {
  tables: Map<K, R[]>;
  positions: P[];
}

export type FlushFn<K, R, P> = (batch: BatchPart<K, R, P>) => Promise<void>;

interface Waiter<K, R, P> {
  part: BatchPart<K, R, P>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function rowCount<K, R>(tables: Map<K, R[]>): number {
  let n = 0;
  for (const rows of tables.values()) n += rows.length;
  return n;
}

export class Batcher<K, R, P> {
  private waiting: Waiter<K, R, P>[] = [];
  private waitingRows = 0;
  private timer: NodeJS.Timeout | undefined;
  private due = false;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly maxSize: number,
    private readonly timeoutMs: number,
    private readonly flush: FlushFn<K, R, P>,
  ) {}

  add(part: BatchPart<K, R, P>): Promise<void> {
    const n = rowCount(part.tables);
    if (n === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ part, resolve, reject });
      this.waitingRows += n;
      this.schedule();
    });
  }

  /** Rows waiting for a flush (not counting the one in flight). */
  pendingRows(): number {
    return this.waitingRows;
  }

  /** Flushes everything pending now and waits until all of it has settled. */
  async drain(): Promise<void> {
    while (this.waiting.length > 0 || this.flushing) {
      this.due = true;
      this.kick();
      await this.flushing?.catch(() => {});
    }
  }

  private schedule(): void {
    if (this.waiting.length === 0) return;
    if (this.due || this.waitingRows >= this.maxSize) this.kick();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.due = true;
        this.kick();
      }, this.timeoutMs);
    }
  }

  private kick(): void {
    if (this.flushing || this.waiting.length === 0) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = false;
    const batch = this.waiting;
    this.waiting = [];
    this.waitingRows = 0;
    this.flushing = this.run(batch).finally(() => {
      this.flushing = undefined;
      this.schedule();
    });
  }

  private async run(batch: Waiter<K, R, P>[]): Promise<void> {
    const tables = new Map<K, R[]>();
    const positions: P[] = [];
    for (const { part } of batch) {
      for (const [kind, rows] of part.tables) {
        const list = tables.get(kind);
        if (list) for (const r of rows) list.push(r);
        else tables.set(kind, [...rows]);
      }
      positions.push(...part.positions);
    }
    try {
      await this.flush({ tables, positions });
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
