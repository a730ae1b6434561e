/**
 * How long the admin CLI waits for the controller, per kind of call. Each bound follows from what
 * the call asks for: a bound shorter than the controller's own hold or operation turns a working
 * controller into "cannot reach the controller" (issue 10).
 */

/** A controller that is up accepts a connection in milliseconds; 5 s is a host down or a dropping firewall. */
export const CONNECT_MS = 5_000;

/** status, set-master, ack, pause…: answered at once, so 15 s of silence is a hung controller to report. */
export const ANSWER_MS = 15_000;

/** How long one events call is held: well below a proxy's idle timeout (nginx: 60 s) and the API's 60 s cap. */
export const HOLD_S = 25;

export interface Patience {
  /** Until the status line and headers; 0 waits as long as it takes. */
  readonly headersTimeout: number;
  /** Between two chunks of the body, which the controller writes in one go once it has answered. */
  readonly bodyTimeout: number;
}

export const SHORT_CALL: Patience = { headersTimeout: ANSWER_MS, bodyTimeout: ANSWER_MS };

/** The controller holds a long-poll up to `waitS` by design; after that it answers like a short call. */
export function longPoll(waitS: number): Patience {
  return { headersTimeout: waitS * 1000 + ANSWER_MS, bodyTimeout: ANSWER_MS };
}

/**
 * failover and switchover answer when the operation is over, within bounds set in the controller's
 * config (catchup_timeout, command_timeout per hook, agents_timeout), which the CLI cannot read. So
 * no bound on the answer: the operator is not left in silence, as the steps are printed from
 * /v1/events meanwhile, and Ctrl-C leaves (the operation goes on; history shows how it ended).
 * A host that vanishes mid-call is still noticed, by TCP keepalive.
 */
export const UNTIL_DONE: Patience = { headersTimeout: 0, bodyTimeout: ANSWER_MS };
