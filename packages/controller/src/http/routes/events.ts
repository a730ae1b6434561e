import { EventsQuery, type EventsResponse } from '@pullover/protocol';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';
import { parseInput } from '../input.js';

export function eventRoutes(app: FastifyInstance, { events }: AppDeps): void {
  app.get('/v1/events', { config: { access: 'viewer' } }, async (request): Promise<EventsResponse> => {
    const { after, wait, cluster } = parseInput(EventsQuery, request.query, 'query');
    // request.signal aborts when the client leaves: nothing waits on a closed socket.
    return events.wait(after, wait * 1000, cluster, request.signal);
  });
}
