import type { Mapping } from '@pullover/protocol';
import type { ControllerState } from '../state/schema.js';

/** The mapping served at the state's version. A pure function of the state: one version, one content. */
export function mappingOf(state: ControllerState): Mapping {
  return {
    version: state.version,
    ...(state.term === undefined ? {} : { term: state.term }),
    issued_at: state.issued_at,
    clusters: Object.entries(state.clusters).map(([name, cluster]) => ({
      name,
      master: cluster.master,
      port: cluster.port,
      entries: cluster.hostnames.map((hostname) => ({ hostname, address: cluster.address })),
    })),
  };
}
