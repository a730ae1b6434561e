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
  /**
   * Set on a sentence about one agent. A fleet has thousands: the FleetLog says such sentences
   * once for all the agents they are about ("9,998 more agents `about`"), each one at debug.
   */
  readonly agent?: {
    readonly name: string;
    /** What the agent did or is, as said of several: "applied version 7", "cannot reach …". */
    readonly about: string;
    /** On "applied version N" sentences: N, which a rollout of that version counts itself. */
    readonly applied?: number;
  };
}
