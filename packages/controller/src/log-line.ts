/**
 * One event as one readable sentence. Decisions return these; the daemon logs them and keeps
 * them in its event log. That keeps the deciding code free of a logger, and lets tests assert
 * the sentence an operator will read.
 */
export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  /** The cluster the sentence is about, for filtering; the sentence names it too. */
  readonly cluster?: string;
}
