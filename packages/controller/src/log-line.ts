/**
 * One event as one readable sentence. Decisions return these; the daemon logs them. That keeps
 * the deciding code free of a logger, and lets tests assert the sentence an operator will read.
 */
export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
}
