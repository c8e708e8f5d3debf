// A list of tracks: play from any row, like it, queue it, start a radio from it, add it to a
// playlist.

import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link } from "react-router";
import { api, describeError } from "../api/client";
import type { Track } from "../api/types";
import { duration, names } from "../format";
import { usePlayer } from "../player/PlayerContext";
import { useLibrary } from "../session";
import { Icon } from "./Icon";

export interface TrackListProps {
  tracks: Track[];
  /** Extra controls per row (a playlist's move and remove buttons). */
  rowActions?: (track: Track, index: number) => ReactNode;
  /** Row drag and drop, for reordering. */
  onMove?: (from: number, to: number) => void;
  /** A further line under the artists (a recommendation's reason). */
  note?: (track: Track, index: number) => ReactNode;
  label: string;
}

export function TrackList({ tracks, rowActions, onMove, note, label }: TrackListProps) {
  const player = usePlayer();
  const current = player.queue.tracks[player.queue.index];
  const [dragging, setDragging] = useState<number | null>(null);
  const playable = tracks.filter((t) => t.available !== false);
  return (
    <ol className="tracks" aria-label={label}>
      {tracks.map((track, i) => {
        const unavailable = track.available === false;
        const isCurrent = current?.id === track.id;
        return (
          <li
            key={`${track.id}-${i}`}
            className={`track${isCurrent ? " current" : ""}${unavailable ? " unavailable" : ""}`}
            data-testid="track-row"
            draggable={!!onMove}
            onDragStart={() => setDragging(i)}
            onDragOver={(e) => onMove && e.preventDefault()}
            onDrop={(e) => {
              e.preventDefault();
              if (onMove && dragging !== null && dragging !== i) onMove(dragging, i);
              setDragging(null);
            }}
          >
            <button
              type="button"
              className="play"
              disabled={unavailable}
              aria-label={isCurrent && player.playing ? `Pause ${track.title}` : `Play ${track.title}`}
              onClick={() => (isCurrent ? player.toggle() : player.play(playable, playable.indexOf(track)))}
            >
              <Icon name={isCurrent && player.playing ? "pause" : "play"} />
            </button>
            <span className="title">
              <span className="name">{track.title}</span>
              <span className="muted">
                {names(track.artists)}
                {unavailable && " · unavailable"}
              </span>
              {note?.(track, i)}
            </span>
            <Link className="album muted" to={`/albums/${track.album.id}`}>
              {track.album.title}
            </Link>
            <span className="muted time">{duration(track.duration_ms)}</span>
            <LikeButton track={track} />
            <TrackMenu track={track} />
            {rowActions?.(track, i)}
          </li>
        );
      })}
    </ol>
  );
}

export function LikeButton({ track }: { track: Track }) {
  const { liked, toggleLike } = useLibrary();
  const on = liked.has(track.id);
  return (
    <button type="button" className={`like${on ? " on" : ""}`} aria-pressed={on} aria-label={on ? `Unlike ${track.title}` : `Like ${track.title}`} onClick={() => toggleLike(track).catch((e) => alert(describeError(e)))}>
      {on ? "♥" : "♡"}
    </button>
  );
}

function TrackMenu({ track }: { track: Track }) {
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const player = usePlayer();
  const { playlists, reloadPlaylists, session } = useLibrary();
  const mine = playlists.filter((p) => p.owner.id === session?.user.id || p.collaborative);
  const root = useRef<HTMLSpanElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => root.current && !root.current.contains(e.target as Node) && setOpen(false);
    document.addEventListener("mousedown", close);
    root.current?.querySelector<HTMLButtonElement>('[role="menuitem"]')?.focus();
    return () => document.removeEventListener("mousedown", close);
  }, [open]);
  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") {
      setOpen(false);
      opener.current?.focus();
    } else if (open && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
      e.preventDefault();
      const items = [...(root.current?.querySelectorAll<HTMLButtonElement>('[role="menuitem"]') ?? [])];
      const at = items.indexOf(document.activeElement as HTMLButtonElement);
      items[(at + (e.key === "ArrowDown" ? 1 : items.length - 1)) % items.length]?.focus();
    }
  };
  const add = async (playlistId: string, name: string) => {
    setOpen(false);
    try {
      await api.send("POST", `/api/v1/playlists/${playlistId}/tracks`, { track_ids: [track.id] });
      setMessage(`Added to ${name}`);
      reloadPlaylists().catch(() => undefined);
    } catch (e) {
      setMessage(describeError(e));
    }
    setTimeout(() => setMessage(null), 2500);
  };
  // The station replaces the queue; a failure shows in the player, like any other playback error.
  const startRadio = async () => {
    setOpen(false);
    opener.current?.focus();
    setMessage("Starting radio…");
    await player.startRadio(track);
    setMessage((m) => (m === "Starting radio…" ? null : m));
  };
  return (
    <span className="menu" ref={root} onKeyDown={onKey}>
      <button type="button" ref={opener} aria-haspopup="menu" aria-expanded={open} aria-label={`More for ${track.title}`} onClick={() => setOpen(!open)}>
        ⋯
      </button>
      {open && (
        <div role="menu" className="popup">
          <button role="menuitem" type="button" onClick={() => (player.enqueue([track]), setOpen(false))}>
            Add to queue
          </button>
          {track.available !== false && (
            <button role="menuitem" type="button" onClick={startRadio}>
              Start radio
            </button>
          )}
          {mine.map((p) => (
            <button role="menuitem" type="button" key={p.id} onClick={() => add(p.id, p.name)}>
              Add to {p.name}
            </button>
          ))}
          {mine.length === 0 && <span className="muted">No playlists yet</span>}
        </div>
      )}
      {message && (
        <span className="toast" role="status">
          {message}
        </span>
      )}
    </span>
  );
}
