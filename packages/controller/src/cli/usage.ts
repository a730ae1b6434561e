export const USAGE = `usage: pullover-controller COMMAND [OPTIONS]

commands:
  run --config FILE [--log-level LEVEL]       serve the mapping (LEVEL: debug, info, warn, error)
  status [--json]                             masters, version, and which agents have caught up
  set-master --cluster CLUSTER NAME [--reason TEXT]
                                              point CLUSTER's hostnames at server NAME (MySQL is not touched)

status and set-master talk to a running controller, found either from its config
  --config FILE                               url from listen, admin token from auth.admin_tokens_file
or explicitly
  --url URL --token-file FILE [--ca-file FILE]

exit codes: 0 ok, 1 the operation failed, 2 bad usage or bad config`;
