// Drives Beatstream's Subsonic API (/rest/*) with `subsonic-api` (npm), a client library nobody
// here wrote, as a JavaScript music app would: token auth (u, t=md5(password+salt), s) with an
// app password, the OpenSubsonic `apiKey` (a personal API token), GET by default and form POST
// (`post: true`, the formPost extension). subsonic-api returns the `subsonic-response` object
// without checking `status`, so every call here goes through `ok()`.
// Every check compares with Beatstream's own REST API (/api/v1). One raw `fetch` without
// `f=json` checks that the XML reply says what the JSON one says.
// Needs a running server with a scanned library; run.sh sets BEATSTREAM_URL, SUBSONIC_USER,
// SUBSONIC_PASSWORD (an app password), SUBSONIC_API_KEY (a personal API token, also the REST
// bearer token) and SUBSONIC_COVER_PX.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { before, test } from "node:test";
import { SubsonicAPI } from "subsonic-api";

const URL_ = (process.env.BEATSTREAM_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const USER = process.env.SUBSONIC_USER;
const PASSWORD = process.env.SUBSONIC_PASSWORD;
const API_KEY = process.env.SUBSONIC_API_KEY;
const COVER_PX = Number(process.env.SUBSONIC_COVER_PX || 0);
assert.ok(USER && PASSWORD && API_KEY, "set SUBSONIC_USER, SUBSONIC_PASSWORD and SUBSONIC_API_KEY (run.sh does)");

const api = new SubsonicAPI({ url: URL_, auth: { username: USER, password: PASSWORD } });
const keyed = new SubsonicAPI({ url: URL_, auth: { apiKey: API_KEY } });
const posting = new SubsonicAPI({ url: URL_, auth: { username: USER, password: PASSWORD }, post: true });
const wrong = new SubsonicAPI({ url: URL_, auth: { username: USER, password: `${PASSWORD}x` } });
/** subsonic-api cannot send request headers; its `fetch` option is the way to add a Range. */
const ranged = (range) =>
  new SubsonicAPI({
    url: URL_,
    auth: { username: USER, password: PASSWORD },
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, Range: range } }),
  });

/** The reply when it succeeded; an assertion naming the Subsonic error otherwise. */
function ok(reply, what) {
  assert.equal(reply?.status, "ok", `${what}: ${JSON.stringify(reply?.error ?? reply)}`);
  return reply;
}
function failed(reply, code, what) {
  assert.equal(reply?.status, "failed", `${what}: succeeded, want error ${code}`);
  assert.equal(reply.error?.code, code, `${what}: error ${JSON.stringify(reply.error)}, want code ${code}`);
}

async function rest(path, init = {}) {
  const r = await fetch(URL_ + path, { ...init, headers: { authorization: `Bearer ${API_KEY}`, ...init.headers } });
  assert.equal(r.status, init.expect ?? 200, `REST ${path} answered ${r.status}`);
  return r.status === 204 ? null : r.json();
}
async function restAll(path) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await rest(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}
const sorted = (xs) => [...xs].sort();

/** A minimal XML reader for the server's replies: elements, attributes, text; checks nesting. */
function parseXml(text) {
  const entities = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  const unescape = (s) =>
    s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e) =>
      e[0] === "#" ? String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : (entities[e] ?? assert.fail(`unknown entity ${m}`)),
    );
  const root = { name: "#root", attrs: {}, children: [], text: "" };
  const stack = [root];
  const re = /<\?[^>]*\?>|<!--[\s\S]*?-->|<\/([\w:-]+)\s*>|<([\w:-]+)((?:\s+[\w:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/gy;
  let m;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    m = re.exec(text);
    assert.ok(m, `not well-formed XML at offset ${at}: ${text.slice(at, at + 60)}`);
    at = re.lastIndex;
    if (m[1]) {
      const open = stack.pop();
      assert.equal(open.name, m[1], `</${m[1]}> closes <${open.name}>`);
    } else if (m[2]) {
      const el = { name: m[2], attrs: {}, children: [], text: "" };
      for (const a of m[3].matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) el.attrs[a[1]] = unescape(a[2] ?? a[3]);
      stack.at(-1).children.push(el);
      if (!m[4]) stack.push(el);
    } else if (m[5]) {
      const top = stack.at(-1);
      if (top === root) assert.match(m[5], /^\s*$/, "text outside the root element");
      else top.text += unescape(m[5]);
    }
  }
  assert.equal(stack.length, 1, `unclosed <${stack.at(-1).name}>`);
  assert.equal(root.children.length, 1, "one root element");
  return root.children[0];
}
const child = (el, name) => el.children.find((c) => c.name === name);
const childrenNamed = (el, name) => el.children.filter((c) => c.name === name);

function jpegSize(buf) {
  assert.ok(buf[0] === 0xff && buf[1] === 0xd8, "a JPEG");
  let i = 2;
  while (i + 9 < buf.length) {
    assert.equal(buf[i], 0xff, `JPEG marker at ${i}`);
    const marker = buf[i + 1];
    if (marker === 0xff) { i += 1; continue; }
    if (marker === 0x01 || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) { i += 2; continue; }
    if ([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf].includes(marker)) {
      return [buf.readUInt16BE(i + 7), buf.readUInt16BE(i + 5)];
    }
    i += 2 + buf.readUInt16BE(i + 2);
  }
  assert.fail("no SOF marker in the JPEG");
}

let artists;
let albums;
let tracks;
let byId;
before(async () => {
  artists = await restAll("/api/v1/artists");
  albums = await restAll("/api/v1/albums?sort=name");
  tracks = await restAll("/api/v1/tracks");
  byId = new Map(tracks.map((t) => [t.id, t]));
  assert.ok(tracks.length >= 6, `the library has tracks (${tracks.length})`);
});

test("sign-in: token auth (GET), apiKey, form POST; wrong password is error 40 in HTTP 200", async () => {
  const pong = ok(await api.ping(), "ping with token auth");
  assert.equal(pong.openSubsonic, true);
  assert.equal(pong.version, "1.16.1");
  // subsonic-api 3.3.1 has no tokenInfo() method; customJSON is its way to call others.
  assert.equal(ok(await keyed.customJSON("tokenInfo.view", {}), "tokenInfo with apiKey").tokenInfo.username, USER);
  ok(await posting.ping(), "ping with form POST");
  const ext = ok(await api.getOpenSubsonicExtensions(), "getOpenSubsonicExtensions").openSubsonicExtensions.map((e) => e.name);
  for (const name of ["apiKeyAuthentication", "formPost"]) assert.ok(ext.includes(name), `extension ${name}: ${ext}`);
  assert.equal(ok(await api.getLicense(), "getLicense").license.valid, true);
  const raw = await wrong.custom("ping.view", {});
  assert.equal(raw.status, 200, "a wrong password is an HTTP 200 reply");
  failed((await raw.json())["subsonic-response"], 40, "ping with a wrong password");
  failed(await wrong.getArtists(), 40, "getArtists with a wrong password");
  failed(await new SubsonicAPI({ url: URL_, auth: { apiKey: `${API_KEY}x` } }).ping(), 44, "a bad apiKey");
});

test("browse: music folders, artists, artist, album, song (= REST)", async () => {
  const folders = ok(await api.getMusicFolders(), "getMusicFolders").musicFolders.musicFolder;
  assert.deepEqual(folders, [{ id: 1, name: "Music" }]);

  const index = ok(await keyed.getArtists(), "getArtists").artists.index;
  const listed = index.flatMap((i) => i.artist ?? []);
  assert.deepEqual(sorted(listed.map((a) => a.id)), sorted(artists.map((a) => a.id)), "getArtists = REST /artists");

  const rich = artists.reduce((a, b) => (b.album_count > a.album_count ? b : a));
  const detail = await rest(`/api/v1/artists/${rich.id}`);
  const artist = ok(await api.getArtist({ id: rich.id }), "getArtist").artist;
  assert.equal(artist.name, rich.name);
  assert.deepEqual(sorted(artist.album.map((a) => a.id)), sorted(detail.albums.map((a) => a.id)));

  const big = albums.reduce((a, b) => (b.track_count > a.track_count ? b : a));
  const restAlbum = await rest(`/api/v1/albums/${big.id}`);
  const album = ok(await posting.getAlbum({ id: big.id }), "getAlbum (POST)").album;
  assert.equal(album.name, big.title);
  assert.equal(album.songCount, big.track_count);
  assert.ok(album.created instanceof Date && !Number.isNaN(album.created.getTime()), `album.created is a date: ${album.created}`);
  assert.deepEqual(album.song.map((s) => s.id), restAlbum.tracks.map((t) => t.id), "songs in album order");

  const t = byId.get(album.song[0].id);
  const song = ok(await api.getSong({ id: t.id }), "getSong").song;
  assert.equal(song.title, t.title);
  assert.equal(song.albumId, t.album.id);
  assert.equal(song.size, t.size_bytes);
  assert.equal(song.duration, Math.round(t.duration_ms / 1000));
  assert.equal(song.suffix, "ogg");
});

test("search3: a song by its title", async () => {
  const target = tracks.find((t) => t.title.length >= 5) ?? tracks[0];
  let found = [];
  for (let i = 0; i < 30; i++) {
    found = ok(await api.search3({ query: target.title, artistCount: 0, albumCount: 0 }), "search3").searchResult3.song ?? [];
    if (found.some((s) => s.id === target.id)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.ok(found.some((s) => s.id === target.id), `search3 ${target.title}: ${found.map((s) => s.title)}`);
});

test("search3: an album found by a query is a full AlbumID3", async () => {
  // An album found by a query carries what subsonic-api's AlbumID3 type requires (lib/types.d.ts:
  // `created: Date | string; duration: number; id: string; name: string; songCount: number;`),
  // and what getAlbum says of it.
  const album = albums.find((a) => a.cover_url) ?? albums[0];
  const hits = ok(await api.search3({ query: album.title, artistCount: 0, songCount: 0 }), "search3 album").searchResult3.album ?? [];
  const hit = hits.find((a) => a.id === album.id);
  assert.ok(hit, `search3 ${album.title}: ${hits.map((a) => a.name)}`);
  const full = ok(await api.getAlbum({ id: album.id }), "getAlbum").album;
  for (const k of ["id", "name", "songCount", "duration", "created"]) assert.ok(hit[k] !== undefined, `search3 album lacks required ${k}: ${JSON.stringify(hit)}`);
  assert.equal(hit.coverArt, full.coverArt, "search3 album coverArt = getAlbum's");
});

test("search3: the empty query lists everything; getAlbumList2", async () => {
  const all = ok(await keyed.search3({ query: "", artistCount: 500, albumCount: 500, songCount: 500 }), "search3 empty").searchResult3;
  assert.deepEqual(sorted(all.song.map((s) => s.id)), sorted(tracks.map((t) => t.id)), "every song");
  assert.deepEqual(sorted(all.album.map((a) => a.id)), sorted(albums.map((a) => a.id)), "every album");
  assert.deepEqual(sorted(all.artist.map((a) => a.id)), sorted(artists.map((a) => a.id)), "every artist");
  const list = ok(await api.getAlbumList2({ type: "alphabeticalByName", size: 500 }), "getAlbumList2").albumList2.album;
  assert.deepEqual(list.map((a) => a.id), albums.map((a) => a.id), "getAlbumList2 alphabeticalByName = REST /albums?sort=name");
});

test("getGenres: value, songCount and albumCount (= REST)", async () => {
  const want = (await rest("/api/v1/genres")).items;
  const got = ok(await api.getGenres(), "getGenres").genres.genre ?? [];
  assert.deepEqual(
    got.map((g) => [g.value, g.songCount]).sort(),
    want.map((g) => [g.name, g.track_count]).sort(),
  );
  // subsonic-api's Genre type: `value: string; albumCount: number; songCount: number;`
  for (const g of got) {
    const albumCount = albums.filter((a) => a.genres.includes(g.value)).length;
    assert.equal(g.albumCount, albumCount, `genre ${g.value} albumCount: ${JSON.stringify(g)}`);
  }
});

test("stream with a Range, and cover art with a size", async () => {
  const t = tracks[0];
  const part = await ranged("bytes=10-109").stream({ id: t.id });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 10-109/${t.size_bytes}`);
  const bytes = Buffer.from(await part.arrayBuffer());
  assert.equal(bytes.length, 100);
  const whole = Buffer.from(await (await api.stream({ id: t.id })).arrayBuffer());
  assert.equal(whole.length, t.size_bytes);
  assert.deepEqual(bytes, whole.subarray(10, 110), "the range is the file's bytes 10-109");

  const covered = albums.find((a) => a.cover_url);
  assert.ok(covered, "an album with a cover (run.sh adds a cover.png)");
  const r = await keyed.getCoverArt({ id: covered.id, size: 64 });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "image/jpeg");
  const [w, h] = jpegSize(Buffer.from(await r.arrayBuffer()));
  if (COVER_PX) assert.deepEqual([w, h], [64, 64], `a ${COVER_PX}px cover at size=64`);
  else assert.ok(Math.max(w, h) <= 64, `${w}x${h} for size=64`);
  const missing = await api.getCoverArt({ id: "no-such-id" });
  assert.equal(missing.status, 200, "a missing cover is an HTTP 200 Subsonic error");
  failed((await missing.json())["subsonic-response"], 70, "getCoverArt of an unknown id");
});

test("playlist: create, update, read, delete (the REST API sees each step)", async () => {
  const ids = tracks.slice(0, 5).map((t) => t.id);
  const name = `subsonic-api ${Date.now()}`;
  const created = ok(await api.createPlaylist({ name, songId: ids.slice(0, 3) }), "createPlaylist").playlist;
  assert.equal(created.name, name);
  assert.deepEqual(created.entry.map((e) => e.id), ids.slice(0, 3));
  assert.ok(created.created instanceof Date && created.changed instanceof Date, "created/changed are dates");
  ok(await posting.updatePlaylist({ playlistId: created.id, name: `${name}!`, comment: "hi", songIdToAdd: ids.slice(3), songIndexToRemove: [1] }), "updatePlaylist (POST)");
  const got = ok(await keyed.getPlaylist({ id: created.id }), "getPlaylist").playlist;
  const want = [ids[0], ids[2], ids[3], ids[4]];
  assert.deepEqual(got.entry.map((e) => e.id), want);
  assert.equal(got.songCount, 4);
  assert.equal(got.comment, "hi");
  const fromRest = await rest(`/api/v1/playlists/${created.id}`);
  assert.deepEqual([fromRest.name, fromRest.tracks.map((e) => e.track.id)], [`${name}!`, want]);
  const listed = ok(await api.getPlaylists(), "getPlaylists").playlists.playlist ?? [];
  assert.ok(listed.some((p) => p.id === created.id && p.name === `${name}!`), "getPlaylists lists it");
  ok(await api.deletePlaylist({ id: created.id }), "deletePlaylist");
  failed(await api.getPlaylist({ id: created.id }), 70, "getPlaylist after delete");
  await rest(`/api/v1/playlists/${created.id}`, { expect: 404 });
});

test("star, scrobble, play queue (= REST likes, history, play queue)", async () => {
  const [a, b, c] = tracks.slice(0, 3).map((t) => t.id);
  ok(await api.star({ id: [a, b] }), "star");
  let starred = ok(await keyed.getStarred2(), "getStarred2").starred2.song ?? [];
  assert.deepEqual(sorted(starred.map((s) => s.id)), sorted([a, b]));
  assert.ok(starred.every((s) => s.starred instanceof Date), "starred dates");
  assert.deepEqual(sorted((await restAll("/api/v1/me/likes/tracks")).map((l) => l.track.id)), sorted([a, b]));
  ok(await api.unstar({ id: [a, b] }), "unstar");
  starred = ok(await api.getStarred2(), "getStarred2").starred2.song ?? [];
  assert.deepEqual(starred, []);
  // Albums and artists are starred too, and rated.
  const albumId = byId.get(a).album.id;
  ok(await api.star({ albumId }), "star an album");
  let both = ok(await keyed.getStarred2(), "getStarred2").starred2;
  assert.deepEqual((both.album ?? []).map((x) => x.id), [albumId]);
  assert.deepEqual((await restAll("/api/v1/me/likes/albums")).map((l) => l.id), [albumId]);
  ok(await api.unstar({ albumId }), "unstar the album");
  ok(await api.setRating({ id: a, rating: 4 }), "setRating");
  assert.equal(ok(await api.getSong({ id: a }), "getSong").song.userRating, 4);
  ok(await api.setRating({ id: a, rating: 0 }), "setRating 0");
  assert.equal(ok(await api.getSong({ id: a }), "getSong").song.userRating, undefined);
  failed(await api.setRating({ id: a, rating: 6 }), 0, "a rating above 5");

  ok(await api.scrobble({ id: c, submission: false }), "scrobble now playing");
  const playing = ok(await api.getNowPlaying(), "getNowPlaying").nowPlaying.entry ?? [];
  assert.ok(playing.some((e) => e.id === c && e.username === USER && e.playerName === "subsonic-api"), JSON.stringify(playing));
  const before = (await restAll("/api/v1/me/history")).length;
  const time = Date.now() - 60_000;
  ok(await keyed.scrobble({ id: c, time }), "scrobble (apiKey)");
  let history = [];
  for (let i = 0; i < 40 && history.length <= before; i++) {
    history = await restAll("/api/v1/me/history");
    if (history.length <= before) await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(history.length, before + 1, "REST /me/history gained one play");
  assert.equal(history[0].track.id, c);
  assert.equal(Date.parse(history[0].played_at), time, "played_at = the scrobble's time");
  failed(await api.scrobble({ id: "no-such-id" }), 70, "scrobble of an unknown id");

  ok(await posting.savePlayQueue({ id: [c, a, b], current: a, position: 4321 }), "savePlayQueue (POST)");
  const queue = ok(await api.getPlayQueue(), "getPlayQueue").playQueue;
  assert.deepEqual(queue.entry.map((e) => e.id), [c, a, b]);
  assert.deepEqual([queue.current, queue.position, queue.username, queue.changedBy], [a, 4321, USER, "subsonic-api"]);
  const fromRest = await rest("/api/v1/me/play-queue");
  assert.deepEqual([fromRest.track_ids, fromRest.current_index, fromRest.position_ms], [[c, a, b], 1, 4321]);
});

test("unknown ids are error 70", async () => {
  failed(await api.getSong({ id: "no-such-id" }), 70, "getSong");
  failed(await api.getAlbum({ id: "no-such-id" }), 70, "getAlbum");
  failed(await keyed.getArtist({ id: "no-such-id" }), 70, "getArtist");
  const r = await api.stream({ id: "no-such-id" });
  assert.equal(r.status, 200, "a stream error is an HTTP 200 Subsonic error");
  failed((await r.json())["subsonic-response"], 70, "stream");
});

test("XML (no f=json) says what JSON says", async () => {
  const big = albums.reduce((a, b) => (b.track_count > a.track_count ? b : a));
  const salt = randomBytes(8).toString("hex");
  const q = new URLSearchParams({ u: USER, t: createHash("md5").update(PASSWORD + salt).digest("hex"), s: salt, v: "1.16.1", c: "raw", id: big.id });
  const r = await fetch(`${URL_}/rest/getAlbum.view?${q}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /xml/);
  const root = parseXml(await r.text());
  assert.equal(root.name, "subsonic-response");
  assert.equal(root.attrs.xmlns, "http://subsonic.org/restapi");
  assert.equal(root.attrs.status, "ok");
  assert.equal(root.attrs.version, "1.16.1");
  const xmlAlbum = child(root, "album");
  const json = ok(await api.customJSON("getAlbum.view", { id: big.id }), "getAlbum JSON").album;
  for (const k of ["id", "name", "songCount", "duration", "artistId", "year"]) {
    if (json[k] !== undefined) assert.equal(xmlAlbum.attrs[k], String(json[k]), `album @${k}`);
  }
  const xmlSongs = childrenNamed(xmlAlbum, "song");
  assert.deepEqual(xmlSongs.map((s) => s.attrs.id), json.song.map((s) => s.id), "song ids");
  assert.deepEqual(xmlSongs.map((s) => s.attrs.title), json.song.map((s) => s.title), "song titles (entities decoded)");
  assert.deepEqual(xmlSongs.map((s) => s.attrs.size), json.song.map((s) => String(s.size)), "song sizes");
  // OpenSubsonic lists become repeated child elements.
  assert.deepEqual(
    xmlSongs.map((s) => childrenNamed(s, "artists").map((a) => a.attrs.id)),
    json.song.map((s) => (s.artists ?? []).map((a) => a.id)),
    "song artists as <artists> elements",
  );
  // An error in XML too.
  const bad = new URLSearchParams({ ...Object.fromEntries(q), id: "no-such-id" });
  const err = parseXml(await (await fetch(`${URL_}/rest/getSong.view?${bad}`)).text());
  assert.equal(err.attrs.status, "failed");
  assert.equal(child(err, "error").attrs.code, "70");
});
