import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, ApiError, describeError } from "../api/client";
import { getAll } from "../api/pages";
import type { Playlist, PlaylistDetail, Track } from "../api/types";
import { ErrorMessage, Loaded } from "../components/Status";
import { TrackList } from "../components/TrackList";
import { duration } from "../format";
import { usePlayer } from "../player/PlayerContext";
import { useLive } from "../live/LiveContext";
import { useLibrary } from "../session";
import { useLoad } from "../useLoad";

export function Playlists() {
  const { playlists, reloadPlaylists } = useLibrary();
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const navigate = useNavigate();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const p = await api.send<Playlist>("POST", "/api/v1/playlists", { name });
      setName("");
      await reloadPlaylists();
      navigate(`/playlists/${p.id}`);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <>
      <h1>Playlists</h1>
      <form className="inline" onSubmit={create} aria-label="New playlist">
        <input aria-label="New playlist name" placeholder="New playlist name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        <button type="submit">Create</button>
      </form>
      {error && <ErrorMessage error={error} />}
      <ul className="cards" aria-label="Your playlists">
        {playlists.map((p) => (
          <li key={p.id}>
            <Link to={`/playlists/${p.id}`}>{p.name}</Link> <span className="muted">{p.track_count} tracks · {duration(p.duration_ms)}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

export function PlaylistPage() {
  const { id = "" } = useParams();
  const path = `/api/v1/playlists/${encodeURIComponent(id)}`;
  const playlist = useLoad(() => api.get<PlaylistDetail>(path), [path]);
  const { session, reloadPlaylists } = useLibrary();
  const player = usePlayer();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const { subscribe } = useLive();
  const shownVersion = playlist.data?.version ?? 0;
  const { reload } = playlist;

  // Edits made elsewhere (another device, a collaborator) show up without a reload.
  useEffect(
    () =>
      subscribe((message) => {
        if (message.type === "reload") void reload();
        if (message.playlist_id !== id) return;
        if (message.type === "playlist.changed" && Number(message.version) > shownVersion) void reload();
        if (message.type === "playlist.deleted") setError("This playlist was deleted.");
      }),
    [subscribe, id, shownVersion, reload],
  );

  /** Runs an edit conditional on the version shown; on a conflict, shows the newer version. */
  const edit = async (method: string, suffix: string, body?: unknown) => {
    const p = playlist.data;
    if (!p) return;
    try {
      await api.send(method, `${path}${suffix}`, body, { "if-match": `"${p.version}"` });
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 412 ? "This playlist was changed elsewhere; showing the latest version." : describeError(e));
    }
    await playlist.reload();
    reloadPlaylists().catch(() => undefined);
  };

  return (
    <Loaded state={playlist}>
      {(p) => {
        const owner = p.owner.id === session?.user.id;
        const canEdit = owner || p.collaborative;
        const tracks: Track[] = p.tracks.map((e) => e.track);
        return (
          <>
            <p className="muted">Playlist · by {p.owner.username}</p>
            <h1>{p.name}</h1>
            {p.description && <p>{p.description}</p>}
            <p className="muted">
              {p.track_count} tracks · {duration(p.duration_ms)}
            </p>
            <div className="actions">
              <button type="button" className="primary" disabled={tracks.length === 0} onClick={() => player.play(tracks.filter((t) => t.available !== false), 0)}>
                Play playlist
              </button>
              {owner && (
                <>
                  <button
                    type="button"
                    onClick={() => {
                      const name = prompt("New name", p.name);
                      if (name && name.trim()) edit("PATCH", "", { name: name.trim() });
                    }}
                  >
                    Rename
                  </button>
                  <button
                    type="button"
                    className="danger"
                    onClick={async () => {
                      if (!confirm(`Delete “${p.name}”?`)) return;
                      try {
                        await api.send("DELETE", path);
                        await reloadPlaylists();
                        navigate("/playlists");
                      } catch (e) {
                        setError(describeError(e));
                      }
                    }}
                  >
                    Delete
                  </button>
                </>
              )}
              <button type="button" onClick={() => download(path, p.name).catch((e) => setError(describeError(e)))}>
                Export M3U
              </button>
            </div>
            {error && <ErrorMessage error={error} />}
            {tracks.length === 0 ? (
              <p className="muted">
                Empty: add tracks from any track’s ⋯ menu, or <Link to="/search">search</Link>.
              </p>
            ) : (
              <TrackList
                label={`Tracks of ${p.name}`}
                tracks={tracks}
                onMove={canEdit ? (from, to) => edit("POST", "/tracks/move", { from, to }) : undefined}
                rowActions={
                  canEdit
                    ? (track, i) => (
                        <span className="row-actions">
                          <button type="button" aria-label={`Move ${track.title} up`} disabled={i === 0} onClick={() => edit("POST", "/tracks/move", { from: i, to: i - 1 })}>
                            ↑
                          </button>
                          <button type="button" aria-label={`Move ${track.title} down`} disabled={i === tracks.length - 1} onClick={() => edit("POST", "/tracks/move", { from: i, to: i + 1 })}>
                            ↓
                          </button>
                          <button type="button" aria-label={`Remove ${track.title} from the playlist`} onClick={() => edit("DELETE", "/tracks", { positions: [i] })}>
                            ✕
                          </button>
                        </span>
                      )
                    : undefined
                }
              />
            )}
          </>
        );
      }}
    </Loaded>
  );
}

async function download(path: string, name: string) {
  const text = await api.text(`${path}/export.m3u8`);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "audio/x-mpegurl" }));
  link.download = `${name}.m3u8`;
  link.click();
}

export function Liked() {
  const likes = useLoad(async () => ({ items: await getAll<{ track: Track; liked_at: string }>("/api/v1/me/likes/tracks?limit=500") }), []);
  return (
    <>
      <h1>Liked Songs</h1>
      <Loaded state={likes}>
        {(page) => {
          // Unliked here stays listed until the page is left, so a slip can be undone.
          const tracks = page.items.map((l) => l.track);
          return tracks.length ? <TrackList label="Liked Songs" tracks={tracks} /> : <p className="muted">Tap ♡ on any track to keep it here.</p>;
        }}
      </Loaded>
    </>
  );
}
