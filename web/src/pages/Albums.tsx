import { Link, useParams, useSearchParams } from "react-router";
import { api } from "../api/client";
import type { Album, AlbumDetail } from "../api/types";
import { Cover } from "../components/Cover";
import { Loaded } from "../components/Status";
import { TrackList } from "../components/TrackList";
import { duration, names } from "../format";
import { usePlayer } from "../player/PlayerContext";
import { MoreButton } from "../components/MoreButton";
import { useLoad, usePaged } from "../useLoad";

export function AlbumGrid({ albums }: { albums: Album[] }) {
  return (
    <ul className="grid" aria-label="Albums">
      {albums.map((a) => (
        <li key={a.id}>
          <Link to={`/albums/${a.id}`} className="card">
            <Cover url={a.cover_url} title={a.title} />
            <span className="name">{a.title}</span>
            <span className="muted">{names(a.artists)}</span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

export function Albums() {
  const [params, setParams] = useSearchParams();
  const sort = params.get("sort") ?? "newest";
  const genre = params.get("genre");
  const albums = usePaged<Album>(`/api/v1/albums?limit=200&sort=${sort}${genre ? `&genre=${encodeURIComponent(genre)}` : ""}`);
  return (
    <>
      <h1>Albums{genre ? `: ${genre}` : ""}</h1>
      <label className="inline">
        Sort by{" "}
        <select value={sort} onChange={(e) => setParams({ ...(genre ? { genre } : {}), sort: e.target.value })}>
          <option value="newest">Recently added</option>
          <option value="name">Name</option>
          <option value="year">Year</option>
        </select>
      </label>
      <Loaded state={albums}>{(page) => (page.items.length ? <AlbumGrid albums={page.items} /> : <p className="muted">No albums.</p>)}</Loaded>
      <MoreButton list={albums} />
    </>
  );
}

export function AlbumPage() {
  const { id = "" } = useParams();
  const album = useLoad(() => api.get<AlbumDetail>(`/api/v1/albums/${encodeURIComponent(id)}`), [id]);
  const player = usePlayer();
  return (
    <Loaded state={album}>
      {(a) => (
        <>
          <header className="hero">
            <Cover url={a.cover_url} title={a.title} size={300} />
            <div>
              <p className="muted">Album</p>
              <h1>{a.title}</h1>
              <p>
                {a.artists.map((artist, i) => (
                  <span key={artist.id}>
                    {i > 0 && ", "}
                    <Link to={`/artists/${artist.id}`}>{artist.name}</Link>
                  </span>
                ))}
                {a.year ? ` · ${a.year}` : ""} · {a.track_count} tracks · {duration(a.duration_ms)}
              </p>
              <button type="button" className="primary" onClick={() => player.play(a.tracks, 0)}>
                Play album
              </button>
            </div>
          </header>
          <TrackList label={`Tracks of ${a.title}`} tracks={a.tracks} />
        </>
      )}
    </Loaded>
  );
}
