// The play queue as plain data and pure functions, so the player's rules are unit-tested:
// what plays next, shuffle, repeat, and edits of the queue while it plays.

import type { Track } from "../api/types";

export type Repeat = "off" | "all" | "one";

export interface Queue {
  tracks: Track[];
  /** The playing track's index in `tracks`, or -1 when nothing is queued. */
  index: number;
  shuffle: boolean;
  repeat: Repeat;
  /** The order before shuffling, to restore when shuffle is turned off. */
  unshuffled: Track[] | null;
}

export const emptyQueue: Queue = { tracks: [], index: -1, shuffle: false, repeat: "off", unshuffled: null };

export function current(queue: Queue): Track | null {
  return queue.tracks[queue.index] ?? null;
}

/** Plays `tracks` from `start`, replacing the queue (shuffled after `start` when shuffle is on). */
export function playNow(queue: Queue, tracks: Track[], start = 0, random = Math.random): Queue {
  if (tracks.length === 0) return queue;
  const index = Math.min(Math.max(start, 0), tracks.length - 1);
  if (!queue.shuffle) return { ...queue, tracks: [...tracks], index, unshuffled: null };
  const first = tracks[index];
  const rest = shuffled(tracks.filter((_, i) => i !== index), random);
  return { ...queue, tracks: [first, ...rest], index: 0, unshuffled: [...tracks] };
}

/** Adds tracks at the end of the queue. */
export function enqueue(queue: Queue, tracks: Track[]): Queue {
  const next = { ...queue, tracks: [...queue.tracks, ...tracks] };
  if (queue.unshuffled) next.unshuffled = [...queue.unshuffled, ...tracks];
  if (next.index < 0 && next.tracks.length > 0) next.index = 0;
  return next;
}

/** The index that plays after the current one, or null at the end of the queue. `ended`: the
 * track finished by itself (repeat one replays it; a press of "next" moves on). */
export function nextIndex(queue: Queue, ended = false): number | null {
  if (queue.index < 0) return null;
  if (ended && queue.repeat === "one") return queue.index;
  if (queue.index + 1 < queue.tracks.length) return queue.index + 1;
  return queue.repeat === "off" ? null : 0;
}

export function next(queue: Queue, ended = false): Queue {
  const index = nextIndex(queue, ended);
  return index === null ? queue : { ...queue, index };
}

export function previous(queue: Queue): Queue {
  if (queue.index > 0) return { ...queue, index: queue.index - 1 };
  if (queue.repeat === "all" && queue.tracks.length > 0) return { ...queue, index: queue.tracks.length - 1 };
  return queue;
}

export function jumpTo(queue: Queue, index: number): Queue {
  return index >= 0 && index < queue.tracks.length ? { ...queue, index } : queue;
}

/** Moves the entry at `from` to `to`; the playing track keeps playing. */
export function move(queue: Queue, from: number, to: number): Queue {
  const n = queue.tracks.length;
  if (from < 0 || from >= n || to < 0 || to >= n || from === to) return queue;
  const tracks = [...queue.tracks];
  const [moved] = tracks.splice(from, 1);
  tracks.splice(to, 0, moved);
  let index = queue.index;
  if (index === from) index = to;
  else if (from < index && to >= index) index -= 1;
  else if (from > index && to <= index) index += 1;
  return { ...queue, tracks, index };
}

/** Removes the entry at `at`. Removing the playing one moves to the one after it; when it was
 * the last, playback stops (nothing is current). */
export function remove(queue: Queue, at: number): Queue {
  if (at < 0 || at >= queue.tracks.length) return queue;
  const removed = queue.tracks[at];
  const tracks = queue.tracks.filter((_, i) => i !== at);
  let index = queue.index;
  if (at < index) index -= 1;
  if (index >= tracks.length) index = -1;
  let unshuffled = queue.unshuffled;
  if (unshuffled) {
    const i = unshuffled.indexOf(removed);
    unshuffled = unshuffled.filter((_, j) => j !== i);
  }
  return { ...queue, tracks, index, unshuffled };
}

/** Empties the queue but for the playing track. */
export function clearUpcoming(queue: Queue): Queue {
  const playing = current(queue);
  return playing ? { ...queue, tracks: [playing], index: 0, unshuffled: null } : emptyQueue;
}

export function toggleShuffle(queue: Queue, random = Math.random): Queue {
  const playing = current(queue);
  if (queue.shuffle) {
    const tracks = queue.unshuffled ?? queue.tracks;
    const index = playing ? Math.max(tracks.indexOf(playing), 0) : -1;
    return { ...queue, shuffle: false, tracks, index, unshuffled: null };
  }
  if (!playing) return { ...queue, shuffle: true };
  const upcoming = shuffled(queue.tracks.slice(queue.index + 1), random);
  return {
    ...queue,
    shuffle: true,
    unshuffled: [...queue.tracks],
    tracks: [...queue.tracks.slice(0, queue.index + 1), ...upcoming],
  };
}

export function cycleRepeat(queue: Queue): Queue {
  const order: Repeat[] = ["off", "all", "one"];
  return { ...queue, repeat: order[(order.indexOf(queue.repeat) + 1) % order.length] };
}

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
