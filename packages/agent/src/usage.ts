export const STOP_FIRST = 'systemctl disable --now pullover-agent';

export const USAGE = `usage: pullover-agent COMMAND --config FILE [OPTIONS]

commands:
  run --config FILE            follow the controllers: long-poll, keep the hosts file's block current, report
                               (what the systemd unit runs; on SIGTERM the file keeps the last applied version)
  sync --config FILE           one shot: fetch, apply, report; exit 0 only when the file holds the controller's
                               mapping
  status --config FILE [--json]
                               what this machine's hosts file holds, from the local state (no network);
                               exit 1 when the block differs from the applied mapping
  uninstall --config FILE      remove the pullover block, restore the lines it commented out, delete the agent
                               state; idempotent. Stop the service first (${STOP_FIRST}):
                               a running agent puts its block back

options:
  -c, --config FILE            agent.yaml: controllers, token_file, hosts_file (default /etc/hosts), state_dir
  --json                       status as one JSON object
  -h, --help                   this text (also after a command)
  --version                    the agent's version

examples:
  pullover-agent sync --config /etc/pullover/agent.yaml
  pullover-agent run --config /etc/pullover/agent.yaml
  pullover-agent status --config /etc/pullover/agent.yaml
  pullover-agent status --json --config /etc/pullover/agent.yaml
  ${STOP_FIRST} && pullover-agent uninstall --config /etc/pullover/agent.yaml

exit codes: 0 ok, 1 the operation failed (sync: the file does not hold the mapping; status: the block differs;
  uninstall: the hosts file or the state could not be read or written), 2 bad usage or bad config`;
