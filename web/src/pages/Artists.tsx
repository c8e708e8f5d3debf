import { Link, useParams } from "react-router";
import { api } from "../api/client";
import type { Artist, ArtistDetail } from "../api/types";
import { MoreButton } from "../components/MoreButton";
import { AlbumGrid } from "./Albums";
import { Loaded } from "../components/Status";
import { useLoad, usePaged } from "../useLoad";

export function Artists() {
  const artists = usePaged<Artist>("/api/v1/artists?limit=200");
  return (
    <>
      <h1>Artists</h1>
      <Loaded state={artists}>
        {(page) => (
          <ul className="cards" aria-label="Artists">
            {page.items.map((a) => (
              <li key={a.id}>
                <Link to={`/artists/${a.id}`}>{a.name}</Link>
              </li>
            ))}
          </ul>
        )}
      </Loaded>
      <MoreButton list={artists} />
    </>
  );
}

export function ArtistPage() {
  const { id = "" } = useParams();
  const artist = useLoad(() => api.get<ArtistDetail>(`/api/v1/artists/${encodeURIComponent(id)}`), [id]);
  return (
    <Loaded state={artist}>
      {(a) => (
        <>
          <p className="muted">Artist</p>
          <h1>{a.name}</h1>
          <AlbumGrid albums={a.albums ?? []} />
        </>
      )}
    </Loaded>
  );
}

export function Genres() {
  const genres = useLoad(() => api.get<{ items: { name: string; track_count: number }[] }>("/api/v1/genres"), []);
  return (
    <>
      <h1>Genres</h1>
      <Loaded state={genres}>
        {(g) => (
          <ul className="cards" aria-label="Genres">
            {g.items.map((genre) => (
              <li key={genre.name}>
                <Link to={`/albums?genre=${encodeURIComponent(genre.name)}`}>{genre.name}</Link> <span className="muted">{genre.track_count} tracks</span>
              </li>
            ))}
          </ul>
        )}
      </Loaded>
    </>
  );
}
