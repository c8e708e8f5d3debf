// The player: one queue and two <audio> elements (the playing one and the next, preloaded, so
// the next track starts at once). It lives above the routes, so playback goes on while the
// listener navigates, and it publishes to the Media Session API for lock screens and keys.

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { api, describeError } from "../api/client";
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
  toggle(): void;
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

export function PlayerProvider({ children }: { children: ReactNode }) {
  const [queue, setQueue] = useState<Q.Queue>(Q.emptyQueue);
  const [playing, setPlaying] = useState(false);
  const [position, setPosition] = useState(0);
  const [duration, setDuration] = useState(0);
  const [volume, setVolumeState] = useState(() => Number(localStorage.getItem(VOLUME_KEY) ?? "1"));
  const [error, setError] = useState<string | null>(null);
  // Two elements: `active` plays, the other holds the next track, loaded ahead.
  const elements = useRef<[HTMLAudioElement, HTMLAudioElement] | null>(null);
  const active = useRef(0);
  const loaded = useRef<[string | null, string | null]>([null, null]);
  const wantPlaying = useRef(false);
  const started = useRef<{ id: string; at: string } | null>(null);
  const queueRef = useRef(queue);
  queueRef.current = queue;

  if (!elements.current && typeof Audio !== "undefined") {
    const make = () => {
      const audio = new Audio();
      audio.preload = "auto";
      audio.hidden = true;
      document.body.appendChild(audio);
      return audio;
    };
    elements.current = [make(), make()];
  }

  const audio = () => elements.current![active.current];

  /** Tells the library a play happened (skips included: the server tells them apart). */
  const recordPlay = useCallback(() => {
    const playingNow = started.current;
    if (!playingNow) return;
    const playedMs = Math.round(audio().currentTime * 1000);
    started.current = null;
    if (playedMs <= 0) return;
    api.send("POST", "/api/v1/me/plays", { track_id: playingNow.id, played_ms: playedMs, started_at: playingNow.at }).catch(() => undefined);
  }, []);

  const load = useCallback(async (element: number, track: Track) => {
    const full = await withStreamUrl(track);
    const url = streamUrlFor(full, full.stream_url!);
    if (loaded.current[element] !== track.id) {
      elements.current![element].src = url;
      loaded.current[element] = track.id;
    }
  }, []);

  // Start the current track whenever it changes; preload the one after it.
  const currentTrack = Q.current(queue);
  const nextTrack = (() => {
    const i = Q.nextIndex(queue);
    return i === null || i === queue.index ? null : queue.tracks[i];
  })();
  useEffect(() => {
    if (!currentTrack) return;
    let cancelled = false;
    (async () => {
      try {
        if (loaded.current[active.current] !== currentTrack.id) {
          if (loaded.current[1 - active.current] === currentTrack.id) {
            // The preloaded element already holds it: switch, so it starts without a gap.
            audio().pause();
            active.current = 1 - active.current;
          } else {
            await load(active.current, currentTrack);
          }
          if (cancelled) return;
          started.current = { id: currentTrack.id, at: new Date().toISOString() };
          audio().currentTime = 0;
        }
        audio().volume = volume;
        if (wantPlaying.current) await audio().play();
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
  }, [currentTrack?.id, queue.index]);

  useEffect(() => {
    if (nextTrack && loaded.current[1 - active.current] !== nextTrack.id) {
      load(1 - active.current, nextTrack).catch(() => undefined);
    }
  }, [nextTrack?.id, currentTrack?.id, load]);

  // Element events drive the state shown.
  useEffect(() => {
    const pair = elements.current;
    if (!pair) return;
    const handlers = pair.map((element, i) => {
      const mine = () => active.current === i;
      const on = {
        timeupdate: () => mine() && setPosition(element.currentTime),
        durationchange: () => mine() && setDuration(Number.isFinite(element.duration) ? element.duration : 0),
        playing: () => mine() && setPlaying(true),
        pause: () => mine() && setPlaying(false),
        ended: () => {
          if (!mine()) return;
          recordPlay();
          const q = queueRef.current;
          const index = Q.nextIndex(q, true);
          if (index === null) {
            wantPlaying.current = false;
            setPlaying(false);
          } else if (index === q.index) {
            element.currentTime = 0;
            started.current = { id: q.tracks[index].id, at: new Date().toISOString() };
            element.play().catch(() => undefined);
          } else setQueue(Q.next(q, true));
        },
        error: () => {
          if (!mine()) return;
          const track = Q.current(queueRef.current);
          setError(`“${track?.title ?? "This track"}” is unavailable right now.`);
          setPlaying(false);
        },
      };
      for (const [name, fn] of Object.entries(on)) element.addEventListener(name, fn);
      return on;
    });
    return () =>
      pair.forEach((element, i) => {
        for (const [name, fn] of Object.entries(handlers[i])) element.removeEventListener(name, fn);
      });
  }, [recordPlay]);

  const actions: PlayerActions = useMemo(
    () => ({
      play(tracks, start = 0) {
        recordPlay();
        wantPlaying.current = true;
        setError(null);
        loaded.current[active.current] = null;
        setQueue((q) => Q.playNow(q, tracks, start));
      },
      enqueue(tracks) {
        setQueue((q) => Q.enqueue(q, tracks));
      },
      toggle() {
        const element = audio();
        if (!element.src) return;
        if (element.paused) {
          wantPlaying.current = true;
          element.play().catch((e) => setError(describeError(e)));
        } else {
          wantPlaying.current = false;
          element.pause();
        }
      },
      next() {
        recordPlay();
        setQueue((q) => Q.next(q));
      },
      previous() {
        const element = audio();
        if (element.currentTime > 3) element.currentTime = 0;
        else {
          recordPlay();
          setQueue((q) => Q.previous(q));
        }
      },
      seek(seconds) {
        const element = audio();
        element.currentTime = Math.max(0, Math.min(seconds, Number.isFinite(element.duration) ? element.duration : seconds));
        setPosition(element.currentTime);
      },
      setVolume(v) {
        const clamped = Math.max(0, Math.min(1, v));
        elements.current?.forEach((e) => (e.volume = clamped));
        localStorage.setItem(VOLUME_KEY, String(clamped));
        setVolumeState(clamped);
      },
      toggleShuffle: () => setQueue((q) => Q.toggleShuffle(q)),
      cycleRepeat: () => setQueue((q) => Q.cycleRepeat(q)),
      move: (from, to) => setQueue((q) => Q.move(q, from, to)),
      remove: (index) => setQueue((q) => Q.remove(q, index)),
      jumpTo(index) {
        recordPlay();
        wantPlaying.current = true;
        setQueue((q) => Q.jumpTo(q, index));
      },
      clear: () => setQueue((q) => Q.clearUpcoming(q)),
      dismissError: () => setError(null),
    }),
    [recordPlay],
  );

  // A play in progress counts when the page is closed or reloaded.
  useEffect(() => {
    window.addEventListener("pagehide", recordPlay);
    return () => window.removeEventListener("pagehide", recordPlay);
  }, [recordPlay]);

  // Lock screen, notification and hardware media keys.
  useEffect(() => {
    if (!("mediaSession" in navigator) || !currentTrack) return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: currentTrack.title,
      artist: currentTrack.artists.map((a) => a.name).join(", "),
      album: currentTrack.album?.title ?? "",
    });
    const bind: [MediaSessionAction, MediaSessionActionHandler][] = [
      ["play", () => actions.toggle()],
      ["pause", () => actions.toggle()],
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
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = playing ? "playing" : "paused";
  }, [playing]);

  const value = { queue, playing, position, duration, volume, error, ...actions };
  return <PlayerContext.Provider value={value}>{children}</PlayerContext.Provider>;
}
