import { z } from 'zod';
import { Name } from './names.js';

/** The most events one answer carries; a client further behind pages with `after`. */
export const MAX_EVENTS_PER_ANSWER = 500;

/**
 * One decision or action of the controller, as the sentence it logged: the same line an operator
 * reads in the journal, numbered so that a client can ask for what came after it.
 */
export const ControllerEvent = z.strictObject({
  /** Increases by one per event since the controller started; 1 is the first. */
  seq: z.number().int().min(1),
  at: z.iso.datetime({ offset: true }),
  level: z.enum(['info', 'warn']),
  /** The cluster the event is about; null for agents' and the controller's own events. */
  cluster: Name.nullable(),
  message: z.string(),
});
export type ControllerEvent = z.infer<typeof ControllerEvent>;

/**
 * GET /v1/events?after=SEQ&wait=S&cluster=C. Events after SEQ at once if there are any, else held
 * up to S seconds (0: answer at once) until one arrives. `next` is the `after` of the next call.
 * `first` is the oldest event still kept: when it is above after + 1, events were dropped between.
 * An `after` above the newest seq means the controller restarted: the answer starts from the oldest.
 */
export const EventsQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  wait: z.coerce.number().int().min(0).max(60).default(0),
  cluster: Name.optional(),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

export const EventsResponse = z.strictObject({
  events: z.array(ControllerEvent).max(MAX_EVENTS_PER_ANSWER),
  next: z.number().int().min(0),
  first: z.number().int().min(1),
  /** The newest seq: `after=last` follows from now on. */
  last: z.number().int().min(0),
});
export type EventsResponse = z.infer<typeof EventsResponse>;
