// Keeping players of a group session together: the server's clock as seen from here, and
// where the shared playback is now.

/** The offset between the server's clock and this one, from ping/pong round trips: of the
 * last few samples, the one with the shortest round trip wins (its timing is the least blurred
 * by the network), so a clock that steps or a new server is followed within a few pings. */
export class ServerClock {
  private samples: { rtt: number; offset: number }[] = [];
  offsetMs = 0;

  constructor(private keep = 8) {}

  /** A pong: sent at `sentAt`, received at `receivedAt` (local ms), stamped `serverTime`. */
  sample(sentAt: number, serverTime: number, receivedAt: number) {
    const rtt = receivedAt - sentAt;
    if (rtt < 0) return;
    this.samples = [...this.samples.slice(-(this.keep - 1)), { rtt, offset: serverTime - (sentAt + rtt / 2) }];
    this.offsetMs = this.samples.reduce((best, s) => (s.rtt < best.rtt ? s : best)).offset;
  }

  /** Forgets the samples (a new connection, maybe to another server). */
  reset() {
    this.samples = [];
  }

  now(local = Date.now()): number {
    return local + this.offsetMs;
  }
}

export interface SharedPlayback {
  position_ms: number;
  playing: boolean;
  as_of: string;
}

/** Where the shared playback is at server time `serverNow`, in seconds. */
export function expectedSeconds(playback: SharedPlayback, serverNow: number): number {
  const asOf = Date.parse(playback.as_of);
  const moved = playback.playing && Number.isFinite(asOf) ? Math.max(0, serverNow - asOf) : 0;
  return (playback.position_ms + moved) / 1000;
}

/** How far off a player may drift before it seeks back into place. */
export const DRIFT_LIMIT_S = 0.2;

/** The time to seek to when `actual` drifted from `expected`, or null when close enough.
 * (Aiming ahead to make up for the seek itself measured worse: a seek within what is buffered
 * lands at once, and a lead only puts that player ahead of the others.) */
export function correction(actual: number, expected: number): number | null {
  return Math.abs(actual - expected) > DRIFT_LIMIT_S ? expected : null;
}
