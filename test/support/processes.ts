// The processes the tests start: the sandbox's rig, re-exported under the names the tests use.
export {
  AGENT_CLI,
  CONTROLLER_CLI,
  eventually,
  freePort,
  Proc,
  REPO_ROOT as ROOT,
  runCli,
  startProcess,
} from '@pullover/sandbox';
