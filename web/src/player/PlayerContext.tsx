// The player: one queue and two <audio> elements (the playing one and the next, preloaded, so
// the next track starts at once). It lives above the routes, so playback goes on while the
// listener navigates, and it publishes to the Media Session API for lock screens and keys.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api, describeError } from "../api/client";
import { getRadio } from "../api/recommend";
import { useLive } from "../live/LiveContext";
import { useGroup } from "../live/SessionContext";
import { correction, expectedSeconds } from "../live/sync";
import { fetchTracks, tracksByIds } from "./remote";
import type { Track } from "../api/types";
import * as Q from "./queue";
import { streamUrlFor, withStreamUrl } from "./stream";

export interface PlayerState {
  queue: Q.Queue;
  playing: boolean;
  position: number;
  duration: number;
  volume: number;
  error: string | null;
}

export interface PlayerActions {
  play(tracks: Track[], start?: number): void;
  enqueue(tracks: Track[]): void;
  /** Replaces the queue with a radio station seeded by `seed` and plays it from the seed.
   * Resolves true once it plays; false when it failed (the player's `error` says why) or
   * another play request came first. */
  startRadio(seed: Track): Promise<boolean>;
  toggle(): void;
  resume(): void;
  pause(): void;
  next(): void;
  previous(): void;
  seek(seconds: number): void;
  setVolume(volume: number): void;
  toggleShuffle(): void;
  cycleRepeat(): void;
  move(from: number, to: number): void;
  remove(index: number): void;
  jumpTo(index: number): void;
  clear(): void;
  dismissError(): void;
}

const PlayerContext = createContext<(PlayerState & PlayerActions) | null>(null);

export function usePlayer() {
  const player = useContext(PlayerContext);
  if (!player) throw new Error("usePlayer outside PlayerProvider");
  return player;
}

const VOLUME_KEY = "beatstream.volume";

function savedVolume(): number {
  const v = Number(localStorage.getItem(VOLUME_KEY) ?? "1");
  return Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : 1;
}

const finite = (n: number) => (Number.isFinite(n) ? n : 0);

/** What one <audio> element holds. */
interface Slot {
  element: HTMLAudioElement;
  trackId: string | null;
}

/** The listen in progress, for `POST /me/plays`: time actually heard, not the position. */
interface Listen {
  trackId: string;
  startedAt: string;
  heardMs: number;
  lastTime: number;
}

export function PlayerProvider({ children }: { children: ReactNode }) {
  const [queue, setQueue] = useState<Q.Queue>(Q.emptyQueue);
  const [playing, setPlaying] = useState(false);
  const [position, setPosition] = useState(0);
  const [duration, setDuration] = useState(0);
  const [volume, setVolumeState] = useState(savedVolume);
  const [error, setError] = useState<string | null>(null);
  // Bumped by every request to play from a list, so the same track asked again restarts.
  const [playRequest, setPlayRequest] = useState(0);
  const [slots, setSlots] = useState<[Slot, Slot] | null>(null);
  const active = useRef(0);
  const wantPlaying = useRef(false);
  const listen = useRef<Listen | null>(null);
  // Bumped by every request for what plays, so a station that arrives late is dropped.
  const radioRequest = useRef(0);
  const queueRef = useRef(queue);
  queueRef.current = queue;
  // Where the next track to load starts (a transferred playback), in seconds.
  const startAt = useRef<number | null>(null);
  const live = useLive();
  const liveRef = useRef(live);
  liveRef.current = live;
  const group = useGroup();
  const groupRef = useRef(group);
  groupRef.current = group;
  const known = useRef(new Map<string, Track>());

  // The elements are made once, in an effect (not during render), and kept in the page so they
  // can be inspected.
  useEffect(() => {
    const make = (): Slot => {
      const element = new Audio();
      element.preload = "auto";
      element.hidden = true;
      document.body.appendChild(element);
      return { element, trackId: null };
    };
    const pair: [Slot, Slot] = [make(), make()];
    setSlots(pair);
    return () => pair.forEach((s) => (s.element.pause(), s.element.remove()));
  }, []);

  const activeSlot = useCallback(() => slots?.[active.current] ?? null, [slots]);

  /** Records the listen in progress, if any (the server tells plays from skips). */
  const recordPlay = useCallback(() => {
    const heard = listen.current;
    listen.current = null;
    if (!heard || heard.heardMs < 1000) return;
    api.send("POST", "/api/v1/me/plays", { track_id: heard.trackId, played_ms: Math.round(heard.heardMs), started_at: heard.startedAt }).catch(() => undefined);
  }, []);

  const startListen = (trackId: string) => {
    listen.current = { trackId, startedAt: new Date().toISOString(), heardMs: 0, lastTime: 0 };
  };

  /** Points `slot` at `track`, unless the request is stale by the time the URL is known. */
  const load = useCallback(async (slot: Slot, track: Track, stillWanted: () => boolean) => {
    if (slot.trackId === track.id) return;
    const full = await withStreamUrl(track);
    if (!stillWanted() || slot.trackId === track.id) return;
    slot.element.src = streamUrlFor(full, full.stream_url!);
    slot.trackId = track.id;
  }, []);

  const stopAll = useCallback(() => {
    slots?.forEach((s) => {
      s.element.pause();
      s.element.removeAttribute("src");
      s.element.load();
      s.trackId = null;
    });
    setPlaying(false);
    setPosition(0);
    setDuration(0);
  }, [slots]);

  // Start the current track whenever it changes (or is asked for again); preload the next.
  const currentTrack = Q.current(queue);
  const nextTrack = (() => {
    const i = Q.nextIndex(queue);
    return i === null || i === queue.index ? null : queue.tracks[i];
  })();
  const lastRequest = useRef(0);
  useEffect(() => {
    if (!slots) return;
    if (!currentTrack) {
      recordPlay();
      stopAll();
      return;
    }
    let cancelled = false;
    const restart = lastRequest.current !== playRequest;
    lastRequest.current = playRequest;
    (async () => {
      try {
        const slot = slots[active.current];
        if (slot.trackId !== currentTrack.id) {
          const other = slots[1 - active.current];
          slot.element.pause();
          if (other.trackId === currentTrack.id) {
            // The preloaded element already holds it: switch, so it starts without a gap.
            active.current = 1 - active.current;
          } else {
            await load(slot, currentTrack, () => !cancelled);
            if (cancelled) return;
          }
          const now = slots[active.current].element;
          const start = startAt.current ?? 0;
          startAt.current = null;
          now.currentTime = start;
          setPosition(start);
          setDuration(finite(now.duration));
          startListen(currentTrack.id);
        } else if (restart) {
          recordPlay();
          slot.element.currentTime = startAt.current ?? 0;
          startAt.current = null;
          startListen(currentTrack.id);
        }
        const element = slots[active.current].element;
        element.volume = volume;
        if (wantPlaying.current) await element.play();
      } catch (e) {
        if (!cancelled && !(e instanceof DOMException && e.name === "AbortError")) {
          setError(`“${currentTrack.title}” cannot be played: ${describeError(e)}`);
        }
      }
    })();
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slots, currentTrack?.id, queue.index, playRequest]);

  useEffect(() => {
    if (!slots || !nextTrack) return;
    let cancelled = false;
    const spare = slots[1 - active.current];
    if (spare.trackId !== nextTrack.id) {
      spare.element.pause();
      load(spare, nextTrack, () => !cancelled && slots[1 - active.current] === spare).catch(() => undefined);
    }
    return () => {
      cancelled = true;
    };
  }, [slots, nextTrack?.id, currentTrack?.id, load]);

  // Element events drive the state shown.
  useEffect(() => {
    if (!slots) return;
    const handlers = slots.map(({ element }, i) => {
      const mine = () => active.current === i;
      const on: Record<string, () => void> = {
        timeupdate: () => {
          if (!mine()) return;
          setPosition(element.currentTime);
          const heard = listen.current;
          if (heard) {
            const step = element.currentTime - heard.lastTime;
            // Only time played through counts; a seek is a jump, not listening.
            if (step > 0 && step < 2) heard.heardMs += step * 1000;
            heard.lastTime = element.currentTime;
          }
        },
        seeked: () => {
          if (mine() && listen.current) listen.current.lastTime = element.currentTime;
        },
        durationchange: () => mine() && setDuration(finite(element.duration)),
        playing: () => mine() && setPlaying(true),
        pause: () => mine() && setPlaying(false),
        ended: () => {
          if (!mine()) return;
          recordPlay();
          const shared = groupRef.current;
          if (shared.session) {
            // In a group session the owner moves everyone on; guests wait for that.
            const from = shared.session.queue_index ?? undefined;
            if (shared.isOwner) shared.control({ action: "next", from_index: from }).catch((e) => setError(describeError(e)));
            return;
          }
          const q = queueRef.current;
          const index = Q.nextIndex(q, true);
          if (index === null) {
            wantPlaying.current = false;
            setPlaying(false);
          } else if (index === q.index) {
            element.currentTime = 0;
            startListen(q.tracks[index].id);
            element.play().catch(() => undefined);
          } else setQueue(Q.next(q, true));
        },
        error: () => {
          if (!mine() || !element.getAttribute("src")) return;
          const track = Q.current(queueRef.current);
          setError(`“${track?.title ?? "This track"}” is unavailable right now.`);
          setPlaying(false);
        },
      };
      for (const [name, fn] of Object.entries(on)) element.addEventListener(name, fn);
      return on;
    });
    return () =>
      slots.forEach(({ element }, i) => {
        for (const [name, fn] of Object.entries(handlers[i])) element.removeEventListener(name, fn);
      });
  }, [slots, recordPlay]);

  const actions: PlayerActions = useMemo(() => {
    const element = () => activeSlot()?.element ?? null;
    const resume = () => {
      const e = element();
      if (!e?.getAttribute("src")) return;
      wantPlaying.current = true;
      e.play().catch((err) => setError(describeError(err)));
    };
    const pause = () => {
      wantPlaying.current = false;
      element()?.pause();
    };
    const play = (tracks: Track[], start = 0) => {
      radioRequest.current += 1;
      wantPlaying.current = true;
      setError(null);
      setPlayRequest((n) => n + 1);
      setQueue((q) => Q.playNow(q, tracks, start));
    };
    /** In a group session: the owner's controls lead everyone, a guest's do nothing. */
    const shared = (action: Parameters<typeof group.control>[0]): boolean => {
      const g = groupRef.current;
      if (!g.session) return false;
      if (g.isOwner) g.control(action).catch((e) => setError(describeError(e)));
      else setError("The session's owner controls playback; add tracks to its queue instead.");
      return true;
    };
    /** In a group session, playing or queueing tracks adds them to the shared queue. */
    const addShared = (tracks: Track[]): boolean => {
      const g = groupRef.current;
      if (!g.session) return false;
      g.add(tracks.slice(0, 100).map((t) => t.id)).catch((e) => setError(describeError(e)));
      return true;
    };
    const local: PlayerActions = {
      play,
      async startRadio(seed) {
        const ticket = ++radioRequest.current;
        try {
          const station = await getRadio(seed);
          if (ticket !== radioRequest.current) return false;
          if (Q.current(queueRef.current)?.id === seed.id) {
            // A radio from what plays: it plays on, and the station follows it.
            radioRequest.current += 1;
            wantPlaying.current = true;
            setError(null);
            setQueue((q) => Q.playNow(q, station, 0));
            resume();
          } else {
            recordPlay();
            play(station, 0);
          }
          return true;
        } catch (e) {
          if (ticket === radioRequest.current) setError(`A radio from “${seed.title}” cannot start: ${describeError(e)}`);
          return false;
        }
      },
      enqueue(tracks) {
        setQueue((q) => Q.enqueue(q, tracks));
      },
      toggle() {
        const e = element();
        if (e && e.paused) resume();
        else pause();
      },
      resume,
      pause,
      next() {
        recordPlay();
        setQueue((q) => Q.next(q));
      },
      previous() {
        const e = element();
        if (e && e.currentTime > 3) {
          e.currentTime = 0;
        } else {
          recordPlay();
          setQueue((q) => Q.previous(q));
        }
      },
      seek(seconds) {
        const e = element();
        if (!e) return;
        const end = Number.isFinite(e.duration) ? e.duration : seconds;
        e.currentTime = Math.max(0, Math.min(seconds, end));
        setPosition(e.currentTime);
      },
      setVolume(v) {
        const clamped = Math.max(0, Math.min(1, finite(v)));
        slots?.forEach((s) => (s.element.volume = clamped));
        localStorage.setItem(VOLUME_KEY, String(clamped));
        setVolumeState(clamped);
      },
      toggleShuffle: () => setQueue((q) => Q.toggleShuffle(q)),
      cycleRepeat: () => setQueue((q) => Q.cycleRepeat(q)),
      move: (from, to) => setQueue((q) => Q.move(q, from, to)),
      remove(index) {
        if (index === queueRef.current.index) recordPlay();
        setQueue((q) => Q.remove(q, index));
      },
      jumpTo(index) {
        radioRequest.current += 1;
        wantPlaying.current = true;
        if (index !== queueRef.current.index) recordPlay();
        setPlayRequest((n) => n + 1);
        setQueue((q) => Q.jumpTo(q, index));
      },
      clear: () => setQueue((q) => Q.clearUpcoming(q)),
      dismissError: () => setError(null),
    };
    const inGroup = (): boolean => !!groupRef.current.session;
    return {
      ...local,
      play: (tracks, start = 0) => addShared(tracks.slice(start, start + 1)) || local.play(tracks, start),
      enqueue: (tracks) => addShared(tracks) || local.enqueue(tracks),
      startRadio: async (seed) => {
        if (!inGroup()) return local.startRadio(seed);
        addShared([seed]);
        return true;
      },
      toggle: () => {
        const e = element();
        if (!shared({ action: e && !e.paused ? "pause" : "play" })) local.toggle();
      },
      resume: () => shared({ action: "play" }) || local.resume(),
      pause: () => shared({ action: "pause" }) || local.pause(),
      next: () => shared({ action: "next" }) || local.next(),
      previous: () => shared({ action: "previous" }) || local.previous(),
      seek: (seconds) => shared({ action: "seek", position_ms: Math.max(0, Math.round(seconds * 1000)) }) || local.seek(seconds),
      jumpTo: (index) => shared({ action: "jump", index }) || local.jumpTo(index),
      move: (from, to) => inGroup() || local.move(from, to),
      remove: (index) => inGroup() || local.remove(index),
      clear: () => inGroup() || local.clear(),
    };
  }, [activeSlot, recordPlay, slots]);

  // A group session: this player mirrors the shared queue and playback, keeping within 200 ms
  // of where the session is by the server's clock.
  const sessionId = group.session?.id;
  const sharedQueue = group.session?.queue;
  const sharedIndex = group.session?.queue_index ?? null;
  useEffect(() => {
    if (!sessionId || !sharedQueue) return;
    let cancelled = false;
    (async () => {
      const ids = sharedQueue.map((e) => e.track_id);
      const missing = [...new Set(ids.filter((id) => !known.current.has(id)))];
      const fetched = await fetchTracks(missing);
      fetched.forEach((t) => t && known.current.set(t.id, t));
      if (cancelled) return;
      const tracks: Track[] = [];
      let index = -1;
      ids.forEach((id, i) => {
        const track = known.current.get(id);
        if (!track) return;
        if (i === sharedIndex) index = tracks.length;
        tracks.push(track);
      });
      const wanted = index >= 0 ? tracks[index] : null;
      if (wanted && Q.current(queueRef.current)?.id !== wanted.id) {
        const s = groupRef.current.session;
        startAt.current = s ? expectedSeconds(s, liveRef.current.serverNow()) : 0;
        wantPlaying.current = !!s?.playing;
        setPlayRequest((n) => n + 1);
      }
      setQueue((q) => ({ ...q, tracks, index, shuffle: false, unshuffled: null }));
    })();
    return () => {
      cancelled = true;
    };
  }, [sessionId, sharedQueue, sharedIndex]);

  useEffect(() => {
    if (!sessionId || !slots) return;
    // After a correcting seek, give playback a moment to resume before judging it again.
    let settleUntil = 0;
    const timer = setInterval(() => {
      const s = groupRef.current.session;
      const element = activeSlot()?.element;
      if (!s || !element?.getAttribute("src") || s.queue_index === null) return;
      // Still loading the session's current track, or still landing a seek.
      if (Q.current(queueRef.current)?.id !== s.queue[s.queue_index]?.track_id) return;
      if (element.seeking || element.readyState < HTMLMediaElement.HAVE_FUTURE_DATA || Date.now() < settleUntil) return;
      const expected = expectedSeconds(s, liveRef.current.serverNow());
      if (Number.isFinite(element.duration) && expected >= element.duration) return;
      if (s.playing) {
        const to = correction(element.currentTime, expected);
        if (to !== null) {
          element.currentTime = to;
          settleUntil = Date.now() + 1000;
        }
        if (element.paused) {
          wantPlaying.current = true;
          element.play().catch(() => undefined);
        }
      } else {
        if (!element.paused) {
          wantPlaying.current = false;
          element.pause();
        }
        if (Math.abs(element.currentTime - expected) > 0.5) element.currentTime = expected;
      }
    }, 250);
    return () => clearInterval(timer);
  }, [sessionId, slots, activeSlot]);

  // This device's playback state goes to the listener's other devices (a moment after it
  // settles), and again whenever the live connection (re)opens.
  const reportTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const reportState = useCallback(() => {
    if (reportTimer.current) clearTimeout(reportTimer.current);
    reportTimer.current = setTimeout(() => {
      const q = queueRef.current;
      const track = Q.current(q);
      if (!track) return;
      const element = activeSlot()?.element;
      liveRef.current.send({
        type: "state",
        state: {
          track_id: track.id,
          position_ms: Math.round((element?.currentTime ?? 0) * 1000),
          playing: !!element && !element.paused,
          volume: element?.volume ?? 1,
          queue: q.tracks.slice(0, 10_000).map((t) => t.id),
          queue_index: q.index < 10_000 ? q.index : null,
          shuffle: q.shuffle,
          repeat: q.repeat,
        },
      });
    }, 150);
  }, [activeSlot]);
  useEffect(reportState, [reportState, currentTrack?.id, playing, queue, volume, live.status]);
  useEffect(() => {
    if (!slots) return;
    slots.forEach((s) => s.element.addEventListener("seeked", reportState));
    return () => slots.forEach((s) => s.element.removeEventListener("seeked", reportState));
  }, [slots, reportState]);

  // What another device tells this one to do.
  useEffect(() => {
    /** Plays `ids` from `index` at `positionMs`, fetching the tracks around it. */
    const playRemote = async (ids: string[], index: number, positionMs: number, play: boolean) => {
      const ticket = ++radioRequest.current;
      const { tracks, index: at } = await tracksByIds(ids, index);
      if (ticket !== radioRequest.current || tracks.length === 0) return;
      recordPlay();
      startAt.current = Math.max(0, positionMs) / 1000;
      wantPlaying.current = play;
      setError(null);
      setPlayRequest((n) => n + 1);
      setQueue((q) => ({ ...q, tracks, index: at, unshuffled: null }));
    };
    return live.subscribe((message) => {
      // In a group session this player follows the session, not remote commands.
      if (message.type !== "player.command" || groupRef.current.session) return;
      const command = message.command as Record<string, unknown> & { action: string };
      switch (command.action) {
        case "play":
          actions.resume();
          break;
        case "pause":
          actions.pause();
          break;
        case "next":
          actions.next();
          break;
        case "previous":
          actions.previous();
          break;
        case "seek":
          actions.seek(Number(command.position_ms) / 1000);
          break;
        case "volume":
          actions.setVolume(Number(command.volume));
          break;
        case "set_queue":
          void playRemote(command.track_ids as string[], Number(command.index ?? 0), Number(command.position_ms ?? 0), true);
          break;
        case "add_to_queue":
          void tracksByIds(command.track_ids as string[], 0).then(({ tracks }) => actions.enqueue(tracks));
          break;
        case "transfer": {
          const state = command.state as { track_id: string | null; queue: string[]; queue_index: number | null; position_ms: number; repeat?: Q.Repeat };
          const ids = state.queue.length > 0 ? state.queue : state.track_id ? [state.track_id] : [];
          void playRemote(ids, state.queue_index ?? 0, state.position_ms, command.play !== false);
          break;
        }
      }
    });
  }, [live.subscribe, actions, recordPlay]);

  // A play in progress counts when the page is closed or reloaded.
  useEffect(() => {
    window.addEventListener("pagehide", recordPlay);
    return () => window.removeEventListener("pagehide", recordPlay);
  }, [recordPlay]);

  // Signing out stops the music and empties the queue (the next person starts afresh).
  useEffect(
    () =>
      api.onChange((session) => {
        if (!session) {
          radioRequest.current += 1;
          wantPlaying.current = false;
          recordPlay();
          setQueue(Q.emptyQueue);
        }
      }),
    [recordPlay],
  );

  // Lock screen, notification and hardware media keys.
  useEffect(() => {
    if (!("mediaSession" in navigator) || !currentTrack) return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: currentTrack.title,
      artist: currentTrack.artists.map((a) => a.name).join(", "),
      album: currentTrack.album?.title ?? "",
    });
    const bind: [MediaSessionAction, MediaSessionActionHandler][] = [
      ["play", () => actions.resume()],
      ["pause", () => actions.pause()],
      ["nexttrack", () => actions.next()],
      ["previoustrack", () => actions.previous()],
      ["seekto", (d) => d.seekTime !== undefined && actions.seek(d.seekTime)],
    ];
    for (const [action, handler] of bind) {
      try {
        navigator.mediaSession.setActionHandler(action, handler);
      } catch {
        // Not every browser knows every action.
      }
    }
  }, [currentTrack, actions]);

  useEffect(() => {
    if (!("mediaSession" in navigator)) return;
    navigator.mediaSession.playbackState = playing ? "playing" : "paused";
    if (duration > 0 && position <= duration) {
      try {
        navigator.mediaSession.setPositionState({ duration, position, playbackRate: 1 });
      } catch {
        // Older browsers.
      }
    }
  }, [playing, position, duration]);

  const value = { queue, playing, position, duration, volume, error, ...actions };
  return <PlayerContext.Provider value={value}>{children}</PlayerContext.Provider>;
}
