import {
  AckResponse,
  ErrorBody,
  EventsResponse,
  FailoverRecord,
  type FailoverRequest,
  formatPath,
  HistoryResponse,
  issueLines,
  LeaderResponse,
  PauseResponse,
  RejoinResponse,
  ReplicaHeartbeatResponse,
  SetWritableResponse,
  ResumeResponse,
  type SwitchoverRequest,
  SwitchoverResponse,
  type SetMasterRequest,
  SetMasterResponse,
  Status,
} from '@pullover/protocol';
import type { z } from 'zod';
import { BadResponse, RemoteError } from '../errors.js';
import { type Endpoint, type Endpoints, endpoints } from './endpoint.js';
import { transportFor } from './http.js';
import { parseJson, Route } from './route.js';
import { longPoll, type Patience, SHORT_CALL, UNTIL_DONE } from './timeouts.js';

/**
 * The admin API of the running controllers (one, or several sharing etcd: see Route); every
 * answer is validated before it is believed.
 */
export class AdminClient {
  readonly #endpoints: Endpoints;
  readonly #route: Route;

  /** An Endpoint alone: that one controller, and a leader it names reached with default trust. */
  constructor(endpoints: Endpoints | Endpoint) {
    this.#endpoints = 'given' in endpoints ? endpoints : single(endpoints);
    this.#route = new Route(this.#endpoints);
  }

  status(): Promise<Status> {
    return this.#call('GET', '/v1/status', undefined, Status, SHORT_CALL);
  }

  /** Who leads, and every controller with its role. */
  leader(): Promise<LeaderResponse> {
    return this.#call('GET', '/v1/leader', undefined, LeaderResponse, SHORT_CALL);
  }

  setMaster(cluster: string, body: SetMasterRequest): Promise<SetMasterResponse> {
    return this.#call(
      'POST',
      `/v1/clusters/${encodeURIComponent(cluster)}/set-master`,
      body,
      SetMasterResponse,
      SHORT_CALL,
    );
  }

  failover(cluster: string, body: FailoverRequest): Promise<FailoverRecord> {
    const path = `/v1/clusters/${encodeURIComponent(cluster)}/failover`;
    return this.#call('POST', path, body, FailoverRecord, UNTIL_DONE);
  }

  switchover(cluster: string, body: SwitchoverRequest): Promise<SwitchoverResponse> {
    const path = `/v1/clusters/${encodeURIComponent(cluster)}/switchover`;
    return this.#call('POST', path, body, SwitchoverResponse, UNTIL_DONE);
  }

  setWritable(cluster: string): Promise<SetWritableResponse> {
    return this.#call('POST', `/v1/clusters/${encodeURIComponent(cluster)}/set-writable`, {}, SetWritableResponse, SHORT_CALL);
  }

  setReplicaHeartbeat(cluster: string): Promise<ReplicaHeartbeatResponse> {
    const path = `/v1/clusters/${encodeURIComponent(cluster)}/replica-heartbeat`;
    // Each replica restarts its replication and is watched until it runs again: seconds, not a short call.
    return this.#call('POST', path, {}, ReplicaHeartbeatResponse, UNTIL_DONE);
  }

  rejoin(cluster: string, server: string): Promise<RejoinResponse> {
    return this.#call('POST', `/v1/clusters/${encodeURIComponent(cluster)}/rejoin`, { server }, RejoinResponse, SHORT_CALL);
  }

  ack(cluster: string): Promise<AckResponse> {
    return this.#call('POST', `/v1/clusters/${encodeURIComponent(cluster)}/ack`, {}, AckResponse, SHORT_CALL);
  }

  pause(cluster: string, forS: number, reason: string | undefined): Promise<PauseResponse> {
    const body = { for_s: forS, ...(reason !== undefined ? { reason } : {}) };
    return this.#call('POST', `/v1/clusters/${encodeURIComponent(cluster)}/pause`, body, PauseResponse, SHORT_CALL);
  }

  resume(cluster: string): Promise<ResumeResponse> {
    return this.#call('POST', `/v1/clusters/${encodeURIComponent(cluster)}/resume`, {}, ResumeResponse, SHORT_CALL);
  }

  history(): Promise<HistoryResponse> {
    return this.#call('GET', '/v1/history', undefined, HistoryResponse, SHORT_CALL);
  }

  /** Events after `after`; with `waitS`, held until one comes. Aborting `signal` ends the hold. */
  events(after: number, waitS: number, cluster?: string, signal?: AbortSignal): Promise<EventsResponse> {
    const query = new URLSearchParams({ after: String(after), wait: String(waitS) });
    if (cluster !== undefined) query.set('cluster', cluster);
    return this.#call('GET', `/v1/events?${query}`, undefined, EventsResponse, longPoll(waitS), signal);
  }

  async close(): Promise<void> {
    this.#endpoints.close();
  }

  async #call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: S,
    patience: Patience,
    signal?: AbortSignal,
  ): Promise<z.output<S>> {
    const answer = await this.#route.send(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      patience,
      signal,
    });
    const { status, text } = answer;
    const url = `${answer.url}${path}`;
    const json = parseJson(text);
    if (status < 200 || status > 299) {
      const error = ErrorBody.safeParse(json);
      if (error.success) throw new RemoteError(status, error.data.code, error.data.message);
      throw new BadResponse(`${method} ${url} answered HTTP ${status}: ${text.slice(0, 200)}`);
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      const problems = issueLines(result.error.issues, (path) => formatPath(path)).join('; ');
      throw new BadResponse(`${method} ${url} answered something that is not a valid response (${problems})`);
    }
    return result.data;
  }
}

function single(endpoint: Endpoint): Endpoints {
  const make = (url: string) => (url === endpoint.url ? endpoint : { ...endpoint, url, transport: transportFor(url) });
  return endpoints([endpoint.url], make);
}
