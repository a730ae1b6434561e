export const USAGE = `usage: pullover-controller COMMAND [OPTIONS]

commands:
  run --config FILE [--log-level LEVEL]       monitor MySQL, fail over, serve the mapping (LEVEL: debug, info, warn, error)
  check --config FILE                         can a failover work now? connectivity, grants, replication, GTID, candidates
  status [--json]                             masters, server health, failover block, which agents have caught up
  failover --cluster CLUSTER [--to NAME] [--reason TEXT] [--force]
                                              fail over a dead master now (ignores the post-failover block;
                                              --force: go on although fence_command failed, you vouch it is down)
  switchover --cluster CLUSTER [--to NAME] [--max-lag S] [--timeout S] [--dry-run]
                                              move a live master: writes blocked well under a second, nothing lost
                                              (--max-lag: refuse above S s of replica lag, default 5; --timeout: how
                                              long the target may take to catch up before it is rolled back, default 5)
  rejoin --cluster CLUSTER NAME               a former master becomes a replica, unless it has errant transactions
  set-writable --cluster CLUSTER              the master came back read_only (restarted): make it take writes, once
                                              every replica answers and holds nothing it lacks
  ack --cluster CLUSTER                       lift the block on automatic failover that follows a failover
  pause --cluster CLUSTER --for DURATION [--reason TEXT]
                                              no automatic failover for a while (a planned mysqld restart; max 7d)
  resume --cluster CLUSTER                    end a pause now
  history [--json]                            past failovers, each step with its duration
  events [--cluster CLUSTER] [--follow] [--json]
                                              what the controller decided and did, one line each (--follow: live,
                                              across controller restarts, until Ctrl-C)
  set-master --cluster CLUSTER NAME [--reason TEXT]
                                              point CLUSTER's hostnames at server NAME (MySQL is not touched)
  import-mha FILE... [--out FILE] [--cluster NAME] [--hostname NAME]...
                                              MHA config (global file first) → controller.yaml; lists what has no equivalent

all but run, check and import-mha talk to a running controller, found either from its config
  --config FILE                               url from listen, admin token from auth.admin_tokens_file
or explicitly
  --url URL --token-file FILE [--ca-file FILE]

examples:
  pullover-controller check --config /etc/pullover/controller.yaml
  pullover-controller status --config /etc/pullover/controller.yaml
  pullover-controller failover --cluster myservice --to mysql2 --config /etc/pullover/controller.yaml
  pullover-controller ack --cluster myservice --config /etc/pullover/controller.yaml
  pullover-controller pause --cluster myservice --for 30m --reason "mysql1 upgrade" --config /etc/pullover/controller.yaml
  pullover-controller events --follow --url https://ctl1.internal:7420 --token-file ~/.pullover-viewer-token
  pullover-controller switchover --cluster myservice --to mysql2 --dry-run --config /etc/pullover/controller.yaml
  pullover-controller rejoin --cluster myservice mysql1 --config /etc/pullover/controller.yaml
  pullover-controller set-writable --cluster myservice --config /etc/pullover/controller.yaml
  pullover-controller import-mha /usr/share/masterha/masterha_default.cnf --out /etc/pullover/controller.yaml

exit codes: 0 ok, 1 the operation failed (for check: a failover would not work), 2 bad usage or bad config`;
