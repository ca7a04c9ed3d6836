// A list for a log line or a terminal: a thousand sites' names are no line.

/** The first `max` items joined, and how many more. */
export function listUpTo(items: readonly string[], max: number): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}
