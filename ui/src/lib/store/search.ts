/** What is worth sending to the catalog search: trimmed, at most 100 characters. */
export function normaliseQuery(raw: string): string {
  return raw.trim().replace(/\s+/g, " ").slice(0, 100);
}

/**
 * Keeps only the newest answer: a slow answer to an older query must never replace the
 * results of what the person typed since.
 */
export class Latest {
  private seq = 0;
  next(): number {
    return ++this.seq;
  }
  isCurrent(ticket: number): boolean {
    return ticket === this.seq;
  }
}
