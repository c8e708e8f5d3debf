#!/usr/bin/env python3
"""Drives Beatstream's Subsonic API (/rest/*) with py-opensonic (PyPI `py-opensonic`, import
name `libopensonic`), a client library nobody here wrote, the way a Python music app would.

Two sign-ins: an app password with the library's default salted-token auth (u, t=md5(p+s), s)
and a personal API token as the OpenSubsonic `apiKey` (`api_key=`, in libopensonic 10.4.1).
libopensonic sends every call as a form POST to `<method>.view` with `f=json`; its typed
replies (mashumaro dataclasses) reject a reply that lacks a field the spec requires.

Every check compares what the client got with what Beatstream's own REST API (/api/v1) says:
ids, counts, names, bytes. Checks run in order (later ones use ids found by earlier ones); a
failing check is reported and the rest still run. Exit status 1 if any check failed.

Environment (set by run.sh): BEATSTREAM_URL, SUBSONIC_USER, SUBSONIC_PASSWORD (an app
password), SUBSONIC_API_KEY (a personal API token, also used as the REST bearer token),
optionally SUBSONIC_COVER_PX (the pixel size of the square cover run.sh put in the library).

The async client (`libopensonic.AsyncConnection`) is used: `libopensonic.Connection` is a
thin synchronous wrapper around it whose binary replies (stream, cover art) are aiohttp
responses that can only be read on the wrapper's private event loop.
"""

import asyncio
import json
import os
import shutil
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from hashlib import md5

import libopensonic
from libopensonic import errors

try:  # what a typed reply raises when the server's JSON lacks a field or has a wrong type
    from mashumaro.exceptions import MissingField, InvalidFieldValue
    SHAPE_ERRORS = (MissingField, InvalidFieldValue)
except ImportError:  # pragma: no cover
    SHAPE_ERRORS = ()

URL = os.environ.get("BEATSTREAM_URL", "http://127.0.0.1:3000").rstrip("/")
USER = os.environ["SUBSONIC_USER"]
PASSWORD = os.environ["SUBSONIC_PASSWORD"]
API_KEY = os.environ["SUBSONIC_API_KEY"]
COVER_PX = int(os.environ.get("SUBSONIC_COVER_PX", "0") or 0)
APP = "beatstream-e2e-py"

_parsed = urllib.parse.urlsplit(URL)
HOST = f"{_parsed.scheme}://{_parsed.hostname}"
PORT = _parsed.port or (443 if _parsed.scheme == "https" else 80)


# ---------------------------------------------------------------------------------------------
# Beatstream's own REST API and raw /rest calls (urllib, no client library), to compare against
# ---------------------------------------------------------------------------------------------

def http(method, url, body=None, headers=None):
    """(status, headers, bytes) of one request; HTTP errors are answers, not exceptions."""
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def rest(path, method="GET", body=None, expect=200):
    """Beatstream's REST API, signed in with the personal API token as a bearer token."""
    status, _, raw = http(method, URL + path, body, {"Authorization": f"Bearer {API_KEY}"})
    if expect is not None and status != expect:
        raise AssertionError(f"REST {method} {path} answered {status}, not {expect}: {raw[:300]!r}")
    return json.loads(raw) if raw else None


def rest_all(path):
    """Every item of a cursor-paginated REST list."""
    items, cursor = [], None
    sep = "&" if "?" in path else "?"
    while True:
        page = rest(f"{path}{sep}limit=500" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""))
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def token_params(password=PASSWORD, user=USER):
    salt = md5(os.urandom(16)).hexdigest()[:12]
    return {"u": user, "t": md5((password + salt).encode()).hexdigest(), "s": salt, "v": "1.16.1", "c": APP}


def raw_subsonic(method, params=None, auth="token", fmt="json", headers=None):
    """A /rest call with urllib: (status, headers, bytes)."""
    q = {}
    if auth == "token":
        q.update(token_params())
    elif auth == "key":
        q.update({"apiKey": API_KEY, "v": "1.16.1", "c": APP})
    elif isinstance(auth, dict):
        q.update(auth)
    if fmt:
        q["f"] = fmt
    q.update(params or {})
    return http("GET", f"{URL}/rest/{method}?{urllib.parse.urlencode(q, doseq=True)}", headers=headers)


def raw_json(method, params=None, auth="token"):
    status, _, body = raw_subsonic(method, params, auth)
    assert status == 200, f"/rest/{method} answered HTTP {status} (Subsonic errors must be HTTP 200): {body[:300]!r}"
    return json.loads(body)["subsonic-response"]


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

RESULTS = []
# Song fields that must not depend on which call listed the song.
SONG_FIELDS = ("title", "album", "album_id", "artist", "artist_id", "duration", "suffix", "content_type",
               "size", "bit_rate", "path", "cover_art", "year", "genre", "track", "created",
               "display_artist", "display_album_artist", "album_artists", "sampling_rate", "channel_count")


async def check(name, fn):
    try:
        await fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported, then the next check runs
        kind = "the client rejected the server's reply shape" if SHAPE_ERRORS and isinstance(e, SHAPE_ERRORS) else type(e).__name__
        RESULTS.append((name, False, f"{kind}: {e}"))
        print(f"FAIL {name}\n     {kind}: {e}", flush=True)
        if not isinstance(e, AssertionError):
            traceback.print_exc(limit=4)
        return
    RESULTS.append((name, True, ""))
    print(f"ok   {name}", flush=True)


def eq(got, want, what):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


async def expect_error(coro, exc_type, code, what):
    """The call must fail with exactly this libopensonic error (mapped from Subsonic `code`)."""
    try:
        await coro
    except errors.SonicError as e:
        assert type(e) is exc_type, f"{what}: raised {type(e).__name__} ({e}), want {exc_type.__name__} (Subsonic error {code})"
        return str(e)
    raise AssertionError(f"{what}: succeeded, want Subsonic error {code}")


def jpeg_size(data):
    """(width, height) from a JPEG's SOF marker."""
    assert data[:2] == b"\xff\xd8", f"not a JPEG: starts with {data[:4]!r}"
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise AssertionError(f"bad JPEG marker at {i}")
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            return int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big")
        i += 2 + length
    raise AssertionError("no SOF marker in the JPEG")


async def main():
    conn = libopensonic.AsyncConnection(HOST, username=USER, password=PASSWORD, port=PORT, app_name=APP)
    keyed = libopensonic.AsyncConnection(HOST, api_key=API_KEY, port=PORT, app_name=APP + "-key")
    legacy = libopensonic.AsyncConnection(HOST, username=USER, password=PASSWORD, port=PORT,
                                          app_name=APP, legacy_auth=True, use_get=True, use_views=False)
    wrong = libopensonic.AsyncConnection(HOST, username=USER, password=PASSWORD + "x", port=PORT, app_name=APP)
    bad_key = libopensonic.AsyncConnection(HOST, api_key=API_KEY + "x", port=PORT, app_name=APP)

    # What Beatstream's REST API says the library holds.
    artists_rest = rest_all("/api/v1/artists")
    albums_rest = rest_all("/api/v1/albums?sort=name")
    tracks_rest = rest_all("/api/v1/tracks")
    tracks_by_id = {t["id"]: t for t in tracks_rest}
    print(f"library per REST: {len(artists_rest)} artists, {len(albums_rest)} albums, {len(tracks_rest)} tracks")
    assert tracks_rest, "the library is empty: did the scan run?"
    ctx = {}

    async def same_as_get_song(entries, where):
        """A song listed anywhere is described as getSong describes it (a client caches either)."""
        assert entries, f"{where}: no entries to compare"
        diffs = {}
        for e in entries:
            s = await conn.get_song(e.id)
            for field in SONG_FIELDS:
                if getattr(e, field) != getattr(s, field):
                    diffs.setdefault(field, []).append((e.id, getattr(e, field), getattr(s, field)))

        def short(v):
            v = repr(v)
            return v if len(v) <= 60 else v[:57] + "..."
        assert not diffs, f"{where} differs from getSong in " + "; ".join(
            f"{field} ({len(d)} of {len(entries)} songs, e.g. {short(d[0][1])} vs getSong's {short(d[0][2])})"
            for field, d in diffs.items())

    # --- sign-in ------------------------------------------------------------------------------
    async def ping_token():
        assert await conn.ping() is True
    await check("ping with token auth (app password, t=md5(p+s), form POST, .view)", ping_token)

    async def ping_key():
        assert await keyed.ping() is True
        info = await keyed.token_info()
        eq(info.username, USER, "tokenInfo.username with apiKey")
    await check("ping + tokenInfo with apiKey auth (personal API token)", ping_key)

    async def ping_legacy():
        assert await legacy.ping() is True
    await check("ping with p=enc:HEX (legacy auth), GET, no .view", ping_legacy)

    async def wrong_password():
        await expect_error(wrong.ping(), errors.CredentialError, 40, "ping with a wrong password")
        await expect_error(wrong.get_artists(), errors.CredentialError, 40, "getArtists with a wrong password")
    await check("wrong password -> error 40 (in an HTTP 200 reply)", wrong_password)

    async def wrong_key():
        # libopensonic maps unknown codes to the base SonicError; the code itself is checked raw.
        await expect_error(bad_key.ping(), errors.SonicError, 44, "ping with a bad apiKey")
        r = raw_json("ping", auth={"apiKey": API_KEY + "x", "v": "1.16.1", "c": APP})
        eq((r["status"], r["error"]["code"]), ("failed", 44), "bad apiKey status and code")
        r = raw_json("ping", auth={"apiKey": API_KEY, "u": USER, "v": "1.16.1", "c": APP})
        eq((r["status"], r["error"]["code"]), ("failed", 43), "apiKey together with u: status and code")
    await check("bad apiKey -> 44, apiKey with u -> 43", wrong_key)

    async def plain_password():
        r = raw_json("ping", auth={"u": USER, "p": PASSWORD, "v": "1.16.1", "c": APP})
        eq(r["status"], "ok", "u + plain p")
        r = raw_json("ping", auth={"u": USER, "p": "enc:" + PASSWORD.encode().hex(), "v": "1.16.1", "c": APP})
        eq(r["status"], "ok", "u + p=enc:lowercase hex")
        r = raw_json("ping", auth={"u": USER, "v": "1.16.1", "c": APP})
        eq((r["status"], r["error"]["code"]), ("failed", 10), "u without p or t/s")
    await check("plain p and p=enc:, and u alone -> 10 (raw)", plain_password)

    async def extensions():
        names = {e.name for e in await conn.get_open_subsonic_extensions()}
        for want in ("apiKeyAuthentication", "formPost", "songLyrics"):
            assert want in names, f"getOpenSubsonicExtensions lacks {want}: {sorted(names)}"
    await check("getOpenSubsonicExtensions", extensions)

    async def license_():
        dres = await conn.get_license()
        eq(dres["status"], "ok", "status")
        eq(dres["license"]["valid"], True, "license.valid")
        eq(dres.get("openSubsonic"), True, "openSubsonic flag")
        eq(dres.get("version"), "1.16.1", "API version")
    await check("getLicense", license_)

    async def music_folders():
        try:
            folders = await conn.get_music_folders()
        except SHAPE_ERRORS + (TypeError, AttributeError, ValueError) as e:
            # libopensonic 10.4.1 bug, not Beatstream's: get_music_folders() does
            #   return [MusicFolder.from_dict(f) for f in dres["musicFolders"]]
            # iterating the `musicFolders` object's keys instead of dres["musicFolders"]["musicFolder"].
            # Only that exact failure is tolerated; the reply itself is checked raw.
            print(f"     (libopensonic get_music_folders() bug: {type(e).__name__}: {e}; checking the raw reply)")
            r = raw_json("getMusicFolders")
            folders = [libopensonic.media.MusicFolder.from_dict(f) for f in r["musicFolders"]["musicFolder"]]
        eq([(f.id, f.name) for f in folders], [(1, "Music")], "music folders")
    await check("getMusicFolders", music_folders)

    async def user_and_scan():
        u = await conn.get_user(USER)
        eq((u.username, u.admin_role, u.stream_role, u.playlist_role, u.folder), (USER, True, True, True, [1]),
           "getUser: username, adminRole (the first account is the admin), streamRole, playlistRole, folder")
        scan = rest("/api/v1/library/scan")
        st = await conn.get_scan_status()
        eq((st.scanning, st.count), (False, scan["files_seen"]), "getScanStatus vs REST /library/scan")
    await check("getUser, getScanStatus", user_and_scan)

    # --- browsing -----------------------------------------------------------------------------
    async def artists():
        a = await conn.get_artists()
        listed = [x for idx in (a.index or []) for x in (idx.artist or [])]
        eq(sorted(x.id for x in listed), sorted(x["id"] for x in artists_rest), "getArtists ids vs REST /artists")
        by_id = {x["id"]: x for x in artists_rest}
        for x in listed:
            eq(x.name, by_id[x.id]["name"], f"artist {x.id} name")
            eq(x.album_count, by_id[x.id]["album_count"], f"artist {x.name} albumCount")
        for idx in a.index:
            for x in idx.artist:
                words = x.name.split()
                bare = " ".join(words[1:]) if len(words) > 1 and words[0].lower() in ("the", "a", "an") else x.name
                assert idx.name == "#" and not bare[:1].isalpha() or bare[:1].upper() == idx.name, \
                    f"artist {x.name!r} filed under {idx.name!r}"
        ctx["artists"] = listed
    await check("getArtists (ids, names, albumCount = REST)", artists)

    async def indexes():
        ix = await conn.get_indexes()
        listed = [x for idx in (ix.index or []) for x in (idx.artist or [])]
        eq(sorted(x.id for x in listed), sorted(x["id"] for x in artists_rest), "getIndexes ids vs REST /artists")
        assert ix.last_modified > 0, "lastModified"
    await check("getIndexes", indexes)

    async def artist():
        rich = max(artists_rest, key=lambda x: x["album_count"])
        detail = rest(f"/api/v1/artists/{rich['id']}")
        got = await conn.get_artist(rich["id"])
        eq(got.id, rich["id"], "artist id")
        eq(got.name, rich["name"], "artist name")
        eq(sorted(a.id for a in got.album or []), sorted(a["id"] for a in detail["albums"]), "getArtist album ids")
        eq(got.album_count, len(detail["albums"]), "albumCount")
        ctx["artist"] = rich
    await check("getArtist (albums = REST /artists/{id})", artist)

    async def album():
        biggest = max(albums_rest, key=lambda a: a["track_count"])
        detail = rest(f"/api/v1/albums/{biggest['id']}")
        got = await conn.get_album(biggest["id"])
        eq(got.id, biggest["id"], "album id")
        eq(got.name, biggest["title"], "album name")
        eq(got.song_count, biggest["track_count"], "songCount")
        eq([s.id for s in got.song or []], [t["id"] for t in detail["tracks"]], "song ids in album order")
        eq(got.duration, round(biggest["duration_ms"] / 1000), "album duration (s)")
        eq(got.artist_id, biggest["artists"][0]["id"], "artistId")
        for s in got.song:
            eq(s.album_id, biggest["id"], f"song {s.title} albumId")
            eq(s.parent, biggest["id"], f"song {s.title} parent")
        ctx["album"] = got
    await check("getAlbum (songs in order, counts, duration = REST)", album)

    async def song():
        t = ctx["album"].song[0]
        rt = tracks_by_id[t.id]
        s = await conn.get_song(t.id)
        eq(s.id, rt["id"], "id")
        eq(s.title, rt["title"], "title")
        eq(s.album, rt["album"]["title"], "album")
        eq(s.album_id, rt["album"]["id"], "albumId")
        eq(s.artist_id, rt["artists"][0]["id"], "artistId")
        eq(s.artist, ", ".join(a["name"] for a in rt["artists"]), "artist")
        eq(s.duration, (rt["duration_ms"] + 500) // 1000, "duration (s)")
        eq(s.size, rt["size_bytes"], "size")
        eq((s.suffix, s.content_type), ("ogg", "audio/ogg"), "suffix, contentType")
        eq(s.is_dir, False, "isDir")
        eq(s.media_type, "song", "mediaType")
        eq(s.bit_rate, rt["bitrate_kbps"], "bitRate")
        assert s.path and s.path.endswith(".ogg") and not s.path.startswith("/"), f"path {s.path!r} must be relative, ending .ogg"
        ctx["song"] = s
    await check("getSong (every field = REST /tracks/{id})", song)

    async def directory():
        a = ctx["album"]
        d = await conn.get_music_directory(a.id)
        eq(d.id, a.id, "directory id")
        eq([c.id for c in d.child or []], [s.id for s in a.song], "album directory children")
        d = await conn.get_music_directory(ctx["artist"]["id"])
        eq(sorted(c.id for c in d.child or []), sorted(x["id"] for x in rest(f"/api/v1/artists/{ctx['artist']['id']}")["albums"]), "artist directory children")
        assert all(c.is_dir for c in d.child), "an artist's children are directories"
    await check("getMusicDirectory (album and artist)", directory)

    async def genres():
        want = {g["name"]: g["track_count"] for g in rest("/api/v1/genres")["items"]}
        raw = raw_json("getGenres")["genres"].get("genre", [])
        eq({g["value"]: g["songCount"] for g in raw}, want, "raw getGenres value and songCount vs REST /genres")
        lacking = [g["value"] for g in raw if "albumCount" not in g]
        assert not lacking, f"genres without albumCount (required by OpenSubsonic and by libopensonic's Genre): {lacking}; raw reply {raw}"
        got = await conn.get_genres()
        eq({g.value: g.song_count for g in got}, want, "genres and songCount vs REST /genres")
        for g in got:
            albums = {a["id"] for a in albums_rest if g.value in a["genres"]}
            eq(g.album_count, len(albums), f"genre {g.value!r} albumCount")
        ctx["genre"] = max(want, key=want.get) if want else None
    await check("getGenres (value, songCount, albumCount = REST)", genres)

    async def album_lists():
        by_name = await conn.get_album_list2("alphabeticalByName", size=500)
        eq([a.id for a in by_name], [a["id"] for a in albums_rest], "alphabeticalByName = REST /albums?sort=name")
        newest = await conn.get_album_list2("newest", size=500)
        eq(sorted(a.id for a in newest), sorted(a["id"] for a in albums_rest), "newest: every album")
        page = await conn.get_album_list2("alphabeticalByName", size=2, offset=1)
        eq([a.id for a in page], [a["id"] for a in albums_rest[1:3]], "alphabeticalByName size=2 offset=1")
        rnd = await conn.get_album_list2("random", size=2)
        eq(len({a.id for a in rnd}), min(2, len(albums_rest)), "random size=2: distinct albums")
        assert {a.id for a in rnd} <= {a["id"] for a in albums_rest}, "random albums exist"
        if ctx.get("genre"):
            g = await conn.get_album_list2("byGenre", size=500, genre=ctx["genre"])
            eq(sorted(a.id for a in g), sorted(a["id"] for a in albums_rest if ctx["genre"] in a["genres"]), f"byGenre {ctx['genre']!r}")
        years = sorted({a["year"] for a in albums_rest if a.get("year")})
        if years:
            y = years[0]
            got = await conn.get_album_list2("byYear", size=500, from_year=y, to_year=y)
            eq(sorted(a.id for a in got), sorted(a["id"] for a in albums_rest if a.get("year") == y), f"byYear {y}")
        for a in by_name:
            r = next(x for x in albums_rest if x["id"] == a.id)
            eq((a.name, a.song_count), (r["title"], r["track_count"]), f"album {a.id} name, songCount")
            eq(a.cover_art is not None, r.get("cover_url") is not None, f"album {a.name!r} has coverArt iff REST has cover_url")
        ctx["albums_with_cover"] = [a for a in by_name if a.cover_art]
    await check("getAlbumList2 (alphabeticalByName, newest, paging, random, byGenre, byYear)", album_lists)

    async def random_songs():
        got = await conn.get_random_songs(size=5)
        eq(len(got), min(5, len(tracks_rest)), "getRandomSongs size=5 count")
        eq(len({s.id for s in got}), len(got), "distinct songs")
        for s in got:
            assert s.id in tracks_by_id, f"random song {s.id} unknown to REST"
            eq(s.title, tracks_by_id[s.id]["title"], f"song {s.id} title")
        if ctx.get("genre"):
            got = await conn.get_random_songs(size=500, genre=ctx["genre"])
            eq(sorted(s.id for s in got), sorted(t["id"] for t in tracks_rest if ctx["genre"] in t["genres"]), "getRandomSongs genre= filter")
    await check("getRandomSongs (size, genre)", random_songs)

    async def search_song():
        # The search index is fed by events after the scan: give it a little while.
        target = ctx["song"]
        deadline = time.time() + 30
        while True:
            res = await conn.search3(target.title, artist_count=0, album_count=0, song_count=20)
            if any(s.id == target.id for s in res.song or []) or time.time() > deadline:
                break
            await asyncio.sleep(1)
        assert any(s.id == target.id for s in res.song or []), f"search3 {target.title!r}: {[s.title for s in res.song or []]}"
        ctx["found_songs"] = res.song
        # A typo still finds it (Beatstream's search is typo-tolerant).
        if len(target.title) >= 5:
            typo = target.title[:-1] + ("x" if target.title[-1] != "x" else "y")
            res = await conn.search3(typo, artist_count=0, album_count=0)
            assert any(s.id == target.id for s in res.song or []), f"search3 with a typo {typo!r}: {[s.title for s in res.song or []]}"
    await check("search3 finds a song by its title, and with a typo", search_song)

    async def search_artist():
        name = ctx["artist"]["name"]
        res = await conn.search3(name, song_count=0, album_count=0)
        assert any(a.id == ctx["artist"]["id"] for a in res.artist or []), f"search3 {name!r} artists: {[a.name for a in res.artist or []]}"
        a = next(a for a in res.artist if a.id == ctx["artist"]["id"])
        eq((a.name, a.album_count), (ctx["artist"]["name"], ctx["artist"]["album_count"]), "artist name, albumCount")
    await check("search3 finds an artist by name", search_artist)

    async def search_album():
        album = (ctx.get("albums_with_cover") or [ctx["album"]])[0]
        title = album.name
        # Raw first, to say precisely what differs from getAlbum if the typed client rejects it.
        raw = raw_json("search3", {"query": title, "artistCount": 0, "songCount": 0})["searchResult3"].get("album", [])
        full = raw_json("getAlbum", {"id": album.id})["album"]
        full.pop("song", None)
        for a in raw:
            if a["id"] == full["id"]:
                missing = sorted(set(full) - set(a))
                assert not missing, f"search3 album {title!r} lacks {missing} that getAlbum has ({ {k: full[k] for k in missing} })"
        res = await conn.search3(title, artist_count=0, song_count=0)
        assert any(a.id == album.id for a in res.album or []), f"search3 {title!r} albums: {[a.name for a in res.album or []]}"
    await check("search3 finds an album by its title (typed AlbumID3, as getAlbum describes it)", search_album)

    async def search_songs_match():
        await same_as_get_song(ctx.get("found_songs") or [], "search3 song")
    await check("search3 (with a query) songs describe songs as getSong does", search_songs_match)

    async def search_everything():
        res = await conn.search3("", artist_count=500, album_count=500, song_count=500)
        eq(sorted(a.id for a in res.artist or []), sorted(a["id"] for a in artists_rest), "empty query: every artist")
        eq(sorted(a.id for a in res.album or []), sorted(a["id"] for a in albums_rest), "empty query: every album")
        eq(sorted(s.id for s in res.song or []), sorted(tracks_by_id), "empty query: every song")
        whole = [s.id for s in res.song]
        page = await conn.search3('""', artist_count=0, album_count=0, song_count=5, song_offset=3)
        eq([s.id for s in page.song or []], whole[3:8], 'query "" songCount=5 songOffset=3 = a window of the whole list')
        eq((page.artist or [], page.album or []), ([], []), "artistCount=0 albumCount=0")
    await check("search3 with the empty query lists everything, paged", search_everything)

    # --- streaming and cover art --------------------------------------------------------------
    async def stream_range():
        s = ctx["song"]
        res = await conn.stream(s.id, byte_range="bytes=0-99")
        body = await res.read()
        eq(res.status, 206, "stream with Range: HTTP status")
        eq(len(body), 100, "bytes for Range 0-99")
        eq(res.headers.get("Content-Range"), f"bytes 0-99/{s.size}", "Content-Range")
        eq(body[:4], b"OggS", "first bytes")
        res = await conn.stream(s.id, byte_range=f"bytes={s.size - 50}-")
        tail = await res.read()
        eq((res.status, len(tail)), (206, 50), "open-ended Range at the end")
        res = await conn.stream(s.id)
        full = await res.read()
        eq(res.status, 200, "stream without Range: status")
        eq(len(full), s.size, "whole file = song.size")
        eq(res.headers.get("Content-Type"), "audio/ogg", "Content-Type")
        eq(res.headers.get("Accept-Ranges"), "bytes", "Accept-Ranges")
        eq((full[:100], full[-50:]), (body, tail), "ranges are the file's bytes")
        ctx["full"] = full
    await check("stream with a Range header (206, byte counts, Content-Range)", stream_range)

    async def stream_url_with_key():
        # The library's URL builder (what an app hands to a player), fetched with urllib.
        url, params = keyed.get_stream_url(ctx["song"].id)
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(url, data=data, headers={"Range": "bytes=100-199",
                                                              "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=60) as r:
            eq(r.status, 206, "status")
            eq(r.read(), ctx["full"][100:200], "bytes 100-199")
    await check("get_stream_url + apiKey + Range via urllib (form POST)", stream_url_with_key)

    async def stream_transcoded():
        if not shutil.which("ffmpeg"):
            print("     (no ffmpeg here: the server cannot transcode; skipped)")
            return
        res = await conn.stream(ctx["song"].id, max_bit_rate=64)
        head = (await res.content.read(4096))
        res.close()
        eq(res.status, 200, "status")
        eq(res.headers.get("Content-Type"), "audio/mpeg", "a bitrate cap under the file's gives MP3")
        assert head[:3] == b"ID3" or (head[0] == 0xFF and head[1] & 0xE0 == 0xE0), f"MP3 bytes: {head[:4]!r}"
    await check("stream maxBitRate=64 -> MP3", stream_transcoded)

    async def cover_art():
        with_cover = ctx.get("albums_with_cover") or []
        assert with_cover, "no album has a cover (run.sh puts a cover.png next to some tracks)"
        a = with_cover[0]
        res = await conn.get_cover_art(a.cover_art, size=128)
        img = await res.read()
        eq(res.status, 200, "status")
        eq(res.headers.get("Content-Type"), "image/jpeg", "Content-Type")
        w, h = jpeg_size(img)
        if COVER_PX:
            want = min(128, COVER_PX)
            eq((w, h), (want, want), f"size=128 of a {COVER_PX}px cover")
        else:
            assert max(w, h) <= 128, f"size=128 gave {w}x{h}"
        res = await conn.get_cover_art(a.cover_art)
        original = await res.read()
        ow, oh = jpeg_size(original) if res.headers.get("Content-Type") == "image/jpeg" else (None, None)
        if COVER_PX:
            eq((ow, oh), (COVER_PX, COVER_PX), "cover without size: the original dimensions")
        # A song's coverArt is its album's cover.
        album = await conn.get_album(a.id)
        res = await conn.get_cover_art(album.song[0].cover_art, size=128)
        eq(await res.read(), img, "a song's coverArt gives its album's cover")
        # REST serves the same image.
        status, _, rest_img = http("GET", f"{URL}/api/v1/albums/{a.id}/cover?size=128", headers={"Authorization": f"Bearer {API_KEY}"})
        eq((status, rest_img), (200, img), "same bytes as REST /albums/{id}/cover?size=128")
    await check("getCoverArt with size (JPEG, dimensions, song id, = REST)", cover_art)

    async def cover_exact_size():
        with_cover = ctx.get("albums_with_cover") or []
        assert with_cover, "no album has a cover"
        res = await conn.get_cover_art(with_cover[0].cover_art, size=100)
        w, h = jpeg_size(await res.read())
        # Beatstream makes covers in steps of 32 px (so the cover cache stays bounded): a
        # request for 100 px gets the next step up, 128 px, never smaller than asked.
        if COVER_PX >= 128:
            eq((w, h), (128, 128), f"getCoverArt size=100 of a {COVER_PX}px square cover: the 32 px step at or above it")
    await check("getCoverArt size=100 gives the 32 px step at or above 100 px", cover_exact_size)

    async def album_info_urls():
        with_cover = ctx.get("albums_with_cover") or []
        assert with_cover, "no album has a cover"
        info = await conn.get_album_info2(with_cover[0].id)
        for field in ("small_image_url", "medium_image_url", "large_image_url"):
            url = getattr(info, field)
            assert url, f"albumInfo {field} missing for an album with a cover"
            assert urllib.parse.urlsplit(url).scheme in ("http", "https"), \
                f"albumInfo {field} must be an absolute URL a client can load; got {url[:90]!r}"
            status, headers, _ = http("GET", url)
            eq((status, headers.get("Content-Type")), (200, "image/jpeg"), f"GET {field} without credentials")
    await check("getAlbumInfo2 image URLs are absolute and load", album_info_urls)

    async def cover_missing():
        without = [a for a in albums_rest if a.get("cover_url") is None]
        if not without:
            return
        await expect_error(conn.get_cover_art(without[0]["id"]), errors.DataNotFoundError, 70, "cover of an album without one")
    await check("getCoverArt of an album without a cover -> error 70", cover_missing)

    # --- playlists ----------------------------------------------------------------------------
    songs = [t["id"] for t in tracks_rest[:6]]
    name = f"py-opensonic {int(time.time())}"

    async def playlist_create():
        assert await conn.create_playlist(name=name, song_ids=songs[:3]) is True
        mine = [p for p in await conn.get_playlists() if p.name == name]
        eq(len(mine), 1, f"getPlaylists has {name!r} once")
        p = mine[0]
        eq(p.song_count, 3, "songCount")
        eq(p.owner, USER, "owner")
        got = await conn.get_playlist(p.id)
        eq([e.id for e in got.entry or []], songs[:3], "entries in order")
        want_duration = sum(tracks_by_id[i]["duration_ms"] for i in songs[:3]) / 1000
        assert abs(got.duration - want_duration) <= 1, f"playlist duration {got.duration}s, songs add up to {want_duration}s"
        r = rest(f"/api/v1/playlists/{p.id}")
        eq((r["name"], [e["track"]["id"] for e in r["tracks"]]), (name, songs[:3]), "REST sees the same playlist")
        ctx["playlist"] = p.id
    await check("createPlaylist (name + songs; getPlaylists; getPlaylist; = REST)", playlist_create)

    async def playlist_update():
        pid = ctx["playlist"]
        assert await conn.update_playlist(pid, name=name + " renamed", comment="made by py-opensonic",
                                          song_ids_to_add=songs[3:5], song_indices_to_remove=[0, 2]) is True
        got = await conn.get_playlist(pid)
        eq(got.name, name + " renamed", "name")
        eq(got.comment, "made by py-opensonic", "comment")
        want = [songs[1], songs[3], songs[4]]
        eq([e.id for e in got.entry or []], want, "entries after removing indexes 0 and 2 and adding two")
        eq(got.song_count, 3, "songCount")
        want_duration = sum(tracks_by_id[i]["duration_ms"] for i in want)
        assert abs(got.duration - want_duration / 1000) <= 1.5, f"duration {got.duration}s vs {want_duration}ms"
        r = rest(f"/api/v1/playlists/{pid}")
        eq((r["name"], r["description"], [e["track"]["id"] for e in r["tracks"]]),
           (name + " renamed", "made by py-opensonic", want), "REST sees the update")
        # createPlaylist with playlistId replaces the songs.
        assert await conn.create_playlist(playlist_id=pid, song_ids=[songs[5], songs[0]]) is True
        got = await conn.get_playlist(pid)
        eq([e.id for e in got.entry or []], [songs[5], songs[0]], "createPlaylist(playlistId) replaced the songs")
    await check("updatePlaylist (rename, comment, add, remove by index) and createPlaylist(playlistId)", playlist_update)

    async def playlist_entries_match_songs():
        got = await conn.get_playlist(ctx["playlist"])
        await same_as_get_song(got.entry, "getPlaylist entry")
    await check("getPlaylist entries describe songs as getSong does", playlist_entries_match_songs)

    async def playlist_cover():
        got = await conn.get_playlist(ctx["playlist"])
        # A playlist's coverArt is its id; getCoverArt answers it with its first song's cover.
        eq(got.cover_art, got.id, "playlist coverArt = its id")
        album = rest(f"/api/v1/albums/{got.entry[0].album_id}")
        if album.get("cover_url"):
            first = await (await conn.get_cover_art(got.cover_art, size=64)).read()
            song_cover = await (await conn.get_cover_art(got.entry[0].cover_art, size=64)).read()
            eq(first, song_cover, "the playlist's cover is its first song's")
        else:
            await expect_error(conn.get_cover_art(got.cover_art), errors.DataNotFoundError, 70, "a playlist whose first song has no cover")
    await check("getPlaylist coverArt", playlist_cover)

    async def playlist_delete():
        pid = ctx["playlist"]
        assert await conn.delete_playlist(pid) is True
        await expect_error(conn.get_playlist(pid), errors.DataNotFoundError, 70, "getPlaylist after delete")
        assert all(p.id != pid for p in await conn.get_playlists()), "still listed"
        rest(f"/api/v1/playlists/{pid}", expect=404)
    await check("deletePlaylist (then 70; REST 404)", playlist_delete)

    # --- stars --------------------------------------------------------------------------------
    async def stars():
        a, b = songs[0], songs[1]
        assert await conn.star(sids=[a, b]) is True
        st = await conn.get_starred2()
        eq(sorted(s.id for s in st.song or []), sorted([a, b]), "getStarred2 songs")
        assert all(s.starred for s in st.song), "starred songs carry `starred`"
        assert (await conn.get_song(a)).starred, "getSong shows starred"
        likes = rest_all("/api/v1/me/likes/tracks")
        eq(sorted(l["track"]["id"] for l in likes), sorted([a, b]), "REST likes")
        album = tracks_by_id[a]["album"]["id"]
        assert await conn.star(album_ids=[album]) is True
        lst = await conn.get_album_list2("starred", size=50)
        eq([x.id for x in lst], [album], "getAlbumList2 starred: the starred album")
        eq([x.id for x in (await conn.get_starred2()).album or []], [album], "getStarred2 album")
        eq([l["id"] for l in rest_all("/api/v1/me/likes/albums")], [album], "REST album likes")
        assert await conn.unstar(album_ids=[album]) is True
        assert await keyed.unstar(sids=[a]) is True
        st = await conn.get_starred2()
        eq([s.id for s in st.song or []], [b], "after unstar (with apiKey)")
        assert not (await conn.get_song(a)).starred, "getSong no longer starred"
        eq([l["track"]["id"] for l in rest_all("/api/v1/me/likes/tracks")], [b], "REST likes after unstar")
        await expect_error(conn.star(sids=["no-such-song"]), errors.DataNotFoundError, 70, "star an unknown song")
        await expect_error(conn.star(album_ids=["no-such-album"]), errors.DataNotFoundError, 70, "star an unknown album")
        st = await conn.get_starred2()
        eq(([s.id for s in st.song or []], st.album or [], st.artist or []), ([b], [], []), "nothing else starred")
    await check("star / unstar / getStarred2 (= REST likes)", stars)

    async def starred_match_songs():
        st = await conn.get_starred2()
        await same_as_get_song(st.song or [], "getStarred2 song")
        assert await conn.unstar(sids=[s.id for s in st.song or []]) is True
        eq((await conn.get_starred2()).song or [], [], "nothing starred at the end")
    await check("getStarred2 songs describe songs as getSong does", starred_match_songs)

    # --- scrobble -----------------------------------------------------------------------------
    async def scrobble():
        sid = songs[2]
        assert await conn.scrobble(sid, submission=False) is True
        playing = await conn.get_now_playing()
        mine = [e for e in playing if e.username == USER]
        eq([e.id for e in mine], [sid], "getNowPlaying after scrobble submission=false")
        eq(mine[0].player_name, APP, "playerName = the client's c")
        before = len(rest_all("/api/v1/me/history"))
        when = int(time.time()) - 120
        assert await conn.scrobble(sid, submission=True, listen_time=when) is True
        deadline = time.time() + 20
        while True:
            history = rest_all("/api/v1/me/history")
            if len(history) > before or time.time() > deadline:
                break
            await asyncio.sleep(0.5)
        eq(len(history), before + 1, "REST /me/history gained one play")
        eq(history[0]["track"]["id"], sid, "the newest play is the scrobbled song")
        want_at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))
        eq(history[0]["played_at"], want_at, f"played_at for scrobble time={when * 1000} (ms)")
        eq(history[0]["skipped"], False, "a scrobble counts as a play, not a skip")
        recent = await conn.get_album_list2("recent", size=5)
        eq(recent[0].id if recent else None, tracks_by_id[sid]["album"]["id"], "getAlbumList2 recent: that song's album first")
        await expect_error(conn.scrobble("no-such-song"), errors.DataNotFoundError, 70, "scrobble an unknown song")
    await check("scrobble (now playing; submission feeds REST /me/history)", scrobble)

    # --- play queue ---------------------------------------------------------------------------
    async def play_queue():
        q = songs[:3]
        assert await conn.save_play_queue(q, current=q[1], position=12345) is True
        got = await conn.get_play_queue()
        eq([e.id for e in got.entry or []], q, "entries")
        eq((got.current, got.position, got.username, got.changed_by), (q[1], 12345, USER, APP), "current, position, username, changedBy")
        assert got.changed, "changed"
        r = rest("/api/v1/me/play-queue")
        eq((r["track_ids"], r["current_index"], r["position_ms"]), (q, 1, 12345), "REST play queue")
        got2 = await keyed.get_play_queue()
        eq([e.id for e in got2.entry or []], q, "the same queue seen with apiKey")
        # A stale `current` (not in the queue) is no current: the queue is still saved.
        assert await conn.save_play_queue(q, current=songs[5]) is True
        r = rest("/api/v1/me/play-queue")
        eq((r["track_ids"], r["current_index"]), (q, None), "saved without a current")
    await check("savePlayQueue / getPlayQueue (= REST /me/play-queue)", play_queue)

    async def catalog_lists_match():
        entries = list(ctx["album"].song[:3]) + list(await conn.get_random_songs(size=3))
        entries += list((await conn.search3("", artist_count=0, album_count=0, song_count=3)).song or [])
        entries += list((await conn.get_play_queue()).entry or [])
        await same_as_get_song(entries, "getAlbum / getRandomSongs / search3('') / getPlayQueue song")
    await check("getAlbum, getRandomSongs, search3(''), getPlayQueue songs describe songs as getSong does", catalog_lists_match)

    # --- unknown ids --------------------------------------------------------------------------
    async def unknown():
        for what, coro in [("getSong", conn.get_song("no-such-id")), ("getAlbum", conn.get_album("no-such-id")),
                           ("getArtist", conn.get_artist("no-such-id")), ("getPlaylist", conn.get_playlist("no-such-id")),
                           ("getMusicDirectory", conn.get_music_directory("no-such-id")),
                           ("getCoverArt", conn.get_cover_art("no-such-id")),
                           ("stream", conn.stream("no-such-id"))]:
            await expect_error(coro, errors.DataNotFoundError, 70, f"{what} of an unknown id")
    await check("unknown ids -> error 70 (getSong, getAlbum, getArtist, getPlaylist, directory, cover, stream)", unknown)

    async def missing_param():
        r = raw_json("getSong")
        eq((r["status"], r["error"]["code"]), ("failed", 10), "getSong without id")
    await check("a missing parameter -> error 10", missing_param)

    for c in (conn, keyed, legacy, wrong, bad_key):
        await c.cleanup()

    failed = [r for r in RESULTS if not r[1]]
    print(f"\npy-opensonic {libopensonic.__version__}: {len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    for name, _, why in failed:
        print(f"  FAIL {name}: {why}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
