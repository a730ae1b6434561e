import { EventsQuery, type EventsResponse } from '@pullover/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { AppDeps } from '../deps.js';
import { parseInput } from '../input.js';

export const eventRoutes: FastifyPluginAsync<AppDeps> = async (app, { sink: { events } }) => {
  app.get('/v1/events', { config: { access: 'viewer' } }, async (request): Promise<EventsResponse> => {
    const { after, wait, cluster } = parseInput(EventsQuery, request.query, 'query');
    // request.signal aborts when the client leaves: nothing waits on a closed socket.
    return events.wait(after, wait * 1000, cluster, request.signal);
  });
};
