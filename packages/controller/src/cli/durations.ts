// The CLI's durations use the config's grammar (protocol's parseDuration): what works in
// controller.yaml works on the command line, and the other way round.
import { MAX_PAUSE_SECONDS, parseDuration } from '@pullover/protocol';
import { UsageError } from '../errors.js';

/** --max-lag, --timeout: "2.5" (seconds, as these options always took), "500ms", "3s", "1m". */
export function secondsOption(flag: string, text: string): number {
  const ms = parseDuration(text, 's');
  if (ms === undefined) {
    throw new UsageError(`${flag} takes a number of seconds, not "${text}" (or a duration: 500ms, 3s, 1m)`);
  }
  return ms / 1000;
}

/**
 * pause --for: "30m", "2h", "1h30m", "1d", in whole seconds, at most MAX_PAUSE_SECONDS. A bare
 * number is refused: "--for 30" could mean seconds or minutes, and a guess would be an outage.
 */
export function pauseSeconds(text: string): number {
  const ms = parseDuration(text);
  const days = MAX_PAUSE_SECONDS / 86_400;
  if (ms === undefined) {
    const bare = parseDuration(text, 's') !== undefined ? ' (a bare number has no unit)' : '';
    throw new UsageError(`--for takes a duration like 30m, 2h or 1d, not "${text}"${bare}`);
  }
  if (ms % 1000 !== 0) throw new UsageError(`--for takes whole seconds, not "${text}"`);
  if (ms < 1000) throw new UsageError(`--for takes at least 1s, not "${text}"`);
  if (ms > MAX_PAUSE_SECONDS * 1000) throw new UsageError(`--for takes at most ${days} days, not "${text}"`);
  return ms / 1000;
}
