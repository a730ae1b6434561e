import pino, { type DestinationStream, type Logger } from 'pino';
import { EventLog } from './events/event-log.js';
import type { LogLine } from './log-line.js';

/** The JSON log lines: `false` writes none (tests); without `stream` they go to stdout. */
export type LogOptions = false | { readonly level: string; readonly stream?: DestinationStream };

/**
 * Where the controller's sentences go: one line in the journal and one entry in the event log
 * (GET /v1/events). Built before the cluster monitors and the HTTP app, which both write to it: one stream
 * of sentences, named by cluster and server, whoever decided.
 */
export interface LogSink {
  readonly logger: Logger;
  readonly events: EventLog;
  say(line: LogLine): void;
}

export function createLogSink(options: LogOptions, now: () => Date): LogSink {
  const logger = !options
    ? pino({ enabled: false })
    : options.stream
      ? pino({ level: options.level }, options.stream)
      : pino({ level: options.level });
  const events = new EventLog(now);
  return {
    logger,
    events,
    say: (line) => {
      events.append(line);
      logger[line.level](line.cluster === undefined ? {} : { cluster: line.cluster }, line.message);
    },
  };
}
