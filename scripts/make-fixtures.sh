#!/usr/bin/env bash
# Regenerates the catalog crate's audio test fixtures: a small on-disk music library (library/) and
# a few deliberately broken files (broken/), all synthesised with ffmpeg (1-2 s of sine, mono, low
# sample rates) so they are tiny, license-free and reproducible. EXPECTED.md next to them says what
# each file should yield; update it when you change this script.
#   usage: scripts/make-fixtures.sh [OUT_DIR]     (default: crates/catalog/tests/fixtures)
# Needs ffmpeg (Debian's build: libmp3lame, libvorbis, libopus) and python3 (stdlib only).
# Idempotent: library/ and broken/ are deleted and rebuilt; EXPECTED.md is hand-written and kept.
# Deterministic for a given ffmpeg build (bit-exact flags, no Lavf/Lavc version strings, fixed Ogg
# serials); other ffmpeg versions may produce different bytes, but the same tags.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-crates/catalog/tests/fixtures}
for tool in ffmpeg python3; do
  command -v "$tool" >/dev/null || { echo "make-fixtures: $tool is required (apt-get install ffmpeg python3)" >&2; exit 1; }
done
export TZ=UTC LC_ALL=C.UTF-8

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/library" "$OUT/broken"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }
sine() { # frequency sample-rate seconds -> lavfi source (mono s16)
  echo "sine=frequency=$1:sample_rate=$2:duration=$3"
}
# Output options every audio file gets: no container/codec version strings, no copied metadata.
BX=(-fflags +bitexact -flags:a +bitexact -map_metadata -1)

# --- pictures --------------------------------------------------------------------------------
img() { # colour WxH out
  ff -f lavfi -i "color=c=$1:s=$2:d=1" -frames:v 1 -fflags +bitexact -flags:v +bitexact -map_metadata -1 \
    "${@:4}" -f image2 -update 1 "$3"
}
img blue 64x64 "$TMP/front.png" -c:v png -pix_fmt rgb24   # embedded in the FLAC
img green 16x16 "$TMP/green.png" -c:v png -pix_fmt rgb24  # broken/png-pretending.mp3

# --- library/Alpha Artist/First Album: three MP3s, ID3v2.4 / v2.3 / v2.3+v1, folder cover -------
D="$OUT/library/Alpha Artist/First Album"
mkdir -p "$D"
img red 64x64 "$D/cover.jpg" -c:v mjpeg -pix_fmt yuvj420p -q:v 8
ff -f lavfi -i "$(sine 440 22050 2)" "${BX[@]}" -c:a libmp3lame -b:a 32k -id3v2_version 4 \
  -metadata title="One" -metadata artist="Alpha Artist" -metadata album="First Album" \
  -metadata album_artist="Alpha Artist" -metadata track="1/3" -metadata disc="1/1" \
  -metadata date="2001" -metadata genre="Rock;Pop" "$D/01 - One.mp3"
ff -f lavfi -i "$(sine 494 22050 1)" "${BX[@]}" -c:a libmp3lame -b:a 32k -id3v2_version 3 \
  -metadata title="Two" -metadata artist="Alpha Artist feat. Beta Singer" -metadata album="First Album" \
  -metadata album_artist="Alpha Artist" -metadata track="2" -metadata disc="1/1" \
  -metadata date="2001" -metadata genre="Rock" "$D/02 - Two.mp3"
ff -f lavfi -i "$(sine 523 22050 1.5)" "${BX[@]}" -c:a libmp3lame -b:a 32k -id3v2_version 3 -write_id3v1 1 \
  -metadata title="Three" -metadata artist="Alpha Artist" -metadata album="First Album" \
  -metadata album_artist="Alpha Artist" -metadata track="3" -metadata disc="1/1" \
  -metadata date="2001" -metadata genre="Rock" "$D/03 - Three.mp3"

# --- library/Beta Singer/Second Album: one file per container ----------------------------------
D="$OUT/library/Beta Singer/Second Album"
mkdir -p "$D"
album=(-metadata album="Second Album")
# FLAC: Vorbis comments (upper-case keys, written as given), a front-cover PICTURE block.
ff -f lavfi -i "$(sine 660 8000 2)" -i "$TMP/front.png" -map 0:a -map 1:v "${BX[@]}" -flags:v +bitexact \
  -c:a flac -c:v png -disposition:v attached_pic -metadata:s:v title="front" -metadata:s:v comment="Cover (front)" \
  -metadata_header_padding 256 \
  -metadata TITLE="Flac Song" -metadata ARTIST="Beta Singer" -metadata ALBUM="Second Album" \
  -metadata ALBUMARTIST="Beta Singer" -metadata TRACKNUMBER=1 -metadata DISCNUMBER=1 \
  -metadata DATE=1999-05-01 -metadata GENRE="Jazz / Blues" \
  -metadata MUSICBRAINZ_ALBUMID=11111111-2222-3333-4444-555555555555 \
  -metadata REPLAYGAIN_TRACK_GAIN="-6.50 dB" -metadata ARTISTS="Beta Singer" \
  "$D/01 Flac Song.flac"
# ffmpeg keeps one value per key, so the second ARTISTS comment is spliced in here: the block
# then holds ARTISTS=Beta Singer followed by ARTISTS=Zeta Guest, the multi-value form.
python3 - "$D/01 Flac Song.flac" "ARTISTS=Zeta Guest" <<'PY'
import struct, sys
path, extra = sys.argv[1], [e.encode() for e in sys.argv[2:]]
data = open(path, "rb").read()
assert data[:4] == b"fLaC", "not a FLAC file"
pos, blocks = 4, []
while True:
    head, size = data[pos], int.from_bytes(data[pos + 1:pos + 4], "big")
    blocks.append([head & 0x7F, data[pos + 4:pos + 4 + size]])
    pos += 4 + size
    if head & 0x80:
        break
for block in blocks:
    if block[0] != 4:  # VORBIS_COMMENT
        continue
    body = block[1]
    vlen = struct.unpack_from("<I", body, 0)[0]
    vendor, (count,), p, comments = body[4:4 + vlen], struct.unpack_from("<I", body, 4 + vlen), 8 + vlen, []
    for _ in range(count):
        n = struct.unpack_from("<I", body, p)[0]
        comments.append(body[p + 4:p + 4 + n])
        p += 4 + n
    for e in extra:  # insert after the last comment with the same key, else at the end
        key = e.split(b"=", 1)[0].upper() + b"="
        same = [i for i, c in enumerate(comments) if c.upper().startswith(key)]
        comments.insert(same[-1] + 1 if same else len(comments), e)
    block[1] = (struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
                + b"".join(struct.pack("<I", len(c)) + c for c in comments))
out = bytearray(b"fLaC")
for i, (kind, body) in enumerate(blocks):
    out += bytes([kind | (0x80 if i == len(blocks) - 1 else 0)]) + len(body).to_bytes(3, "big") + body
open(path, "wb").write(bytes(out) + data[pos:])
PY
ff -f lavfi -i "$(sine 698 8000 1)" "${BX[@]}" -c:a libvorbis -q:a 0 "${album[@]}" \
  -metadata title="Ogg Song" -metadata artist="Beta Singer" -metadata album_artist="Beta Singer" \
  -metadata track=1 -metadata disc=2 -metadata date=1999 -metadata genre="Jazz" "$D/02 Ogg Song.ogg"
ff -f lavfi -i "$(sine 784 16000 1)" "${BX[@]}" -c:a libopus -b:a 12k "${album[@]}" \
  -metadata title="Opus Song" -metadata artist="Beta Singer" -metadata album_artist="Beta Singer" \
  -metadata track=2 -metadata disc=2 -metadata date=1999 -metadata genre="Jazz" "$D/03 Opus Song.opus"
ff -f lavfi -i "$(sine 880 22050 1)" "${BX[@]}" -c:a aac -b:a 24k "${album[@]}" \
  -metadata title="M4A Song" -metadata artist="Beta Singer" -metadata album_artist="Beta Singer" \
  -metadata track="4/8" -metadata disc="1/2" -metadata date=1999 -metadata genre="Jazz" "$D/04 M4A Song.m4a"
ff -f lavfi -i "$(sine 988 8000 1)" "${BX[@]}" -c:a alac "${album[@]}" \
  -metadata title="Alac Song" -metadata artist="Beta Singer" -metadata album_artist="Beta Singer" \
  -metadata track=5 -metadata disc=1 -metadata date=1999 -metadata genre="Jazz" "$D/05 Alac Song.m4a"
# WAV: RIFF LIST/INFO chunk (INAM, IART, IPRD, ICRD, IGNR, IPRT); INFO has no album-artist field.
ff -f lavfi -i "$(sine 1047 8000 1)" "${BX[@]}" -c:a pcm_s16le "${album[@]}" \
  -metadata title="Wav Song" -metadata artist="Beta Singer" -metadata album_artist="Beta Singer" \
  -metadata track=6 -metadata date=1999 -metadata genre="Jazz" "$D/06 Wav Song.wav"
# AIFF: an ID3v2.4 "ID3 " chunk (and ffmpeg's NAME text chunk).
ff -f lavfi -i "$(sine 1175 8000 1)" "${BX[@]}" -c:a pcm_s16be -write_id3v2 1 -id3v2_version 4 "${album[@]}" \
  -metadata title="Aiff Song" -metadata artist="Beta Singer" -metadata album_artist="Beta Singer" \
  -metadata track=7 -metadata disc=1 -metadata date=1999 -metadata genre="Jazz" "$D/07 Aiff Song.aiff"
# WavPack: APEv2 footer tag; ffmpeg writes keys verbatim, so use the APEv2 spellings.
ff -f lavfi -i "$(sine 1319 8000 1)" "${BX[@]}" -c:a wavpack \
  -metadata Title="WavPack Song" -metadata Artist="Beta Singer" -metadata Album="Second Album" \
  -metadata "Album Artist=Beta Singer" -metadata Track=8 -metadata Disc=1 -metadata Year=1999 \
  -metadata Genre="Jazz" "$D/08 WavPack Song.wv"

# --- library/Compilations/Greatest Hits: one album, various track artists ----------------------
D="$OUT/library/Compilations/Greatest Hits"
mkdir -p "$D"
comp=(-metadata album="Greatest Hits" -metadata album_artist="Various Artists" -metadata compilation=1
      -metadata date=2010 -metadata genre="Pop")
ff -f lavfi -i "$(sine 440 22050 1)" "${BX[@]}" -c:a libmp3lame -b:a 32k "${comp[@]}" \
  -metadata title="Gamma Hit" -metadata artist="Gamma" -metadata track="1/2" "$D/01 Gamma - Gamma Hit.mp3"
ff -f lavfi -i "$(sine 554 22050 1)" "${BX[@]}" -c:a libmp3lame -b:a 32k "${comp[@]}" \
  -metadata title="Delta Hit" -metadata artist="Delta" -metadata track="2/2" "$D/02 Delta - Delta Hit.mp3"
# ffmpeg writes compilation=1 as a user frame, TXXX with description "TCMP". iTunes, Picard and
# most taggers write a real TCMP text frame, so turn the one into the other (same tag size).
python3 - "$D/01 Gamma - Gamma Hit.mp3" "$D/02 Delta - Delta Hit.mp3" <<'PY'
import sys
def syncsafe(b): return b[0] << 21 | b[1] << 14 | b[2] << 7 | b[3]
def to_syncsafe(n): return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    assert data[:4] == b"ID3\x04" and data[5] == 0, "expected a plain ID3v2.4 tag"
    end = 10 + syncsafe(data[6:10])
    pos, frames = 10, []
    while pos + 10 <= end and data[pos:pos + 4] != b"\0\0\0\0":
        fid, size = data[pos:pos + 4], syncsafe(data[pos + 4:pos + 8])
        flags, body = data[pos + 8:pos + 10], data[pos + 10:pos + 10 + size]
        if fid == b"TXXX" and body[0] in (0, 3) and body[1:].startswith(b"TCMP\0"):
            fid, body = b"TCMP", body[:1] + body[6:]
        frames.append(fid + to_syncsafe(len(body)) + flags + body)
        pos += 10 + size
    packed = b"".join(frames)
    assert len(packed) <= end - 10
    open(path, "wb").write(data[:10] + packed + b"\0" * (end - 10 - len(packed)) + data[end:])
PY

# --- library/Other/Greatest Hits: same album title, different album artist ---------------------
D="$OUT/library/Other/Greatest Hits"
mkdir -p "$D"
ff -f lavfi -i "$(sine 659 22050 1)" "${BX[@]}" -c:a libmp3lame -b:a 32k \
  -metadata title="Epsilon Hit" -metadata artist="Epsilon" -metadata album="Greatest Hits" \
  -metadata album_artist="Epsilon" -metadata track=1 -metadata date=2005 -metadata genre="Rock" \
  "$D/01 Epsilon Hit.mp3"

# --- library/untagged: bare MPEG frames, no ID3v2, no ID3v1, no Xing/LAME header ---------------
D="$OUT/library/untagged"
mkdir -p "$D"
ff -f lavfi -i "$(sine 330 22050 1)" "${BX[@]}" -c:a libmp3lame -b:a 32k -id3v2_version 0 -write_xing 0 \
  "$D/no tags at all.mp3"

# --- library/Unicode: UTF-8 tags and a non-ASCII (NFC) file name ------------------------------
D="$OUT/library/Unicode"
mkdir -p "$D"
ff -f lavfi -i "$(sine 392 8000 1)" "${BX[@]}" -c:a libvorbis -q:a 0 \
  -metadata title="Jóga" -metadata artist="Björk" -metadata album="Homogenic" -metadata album_artist="Björk" \
  -metadata track=3 -metadata date=1997 -metadata genre="Electronic" "$D/Björk – Jóga (日本).ogg"

# --- broken/: not part of the library; tests copy these in when they want them ----------------
D="$OUT/broken"
mkdir -p "$D"
: > "$D/empty.mp3"
cp "$TMP/green.png" "$D/png-pretending.mp3"
# First 200 bytes of the library FLAC: STREAMINFO, then a PICTURE block that declares 235 bytes and
# is cut off after 154; no Vorbis comment, no audio (an interrupted copy or download).
head -c 200 "$OUT/library/Beta Singer/Second Album/01 Flac Song.flac" > "$D/truncated.flac"
python3 -c 'import random, sys; random.seed(1); sys.stdout.buffer.write(bytes(random.getrandbits(8) for _ in range(4096)))' \
  > "$D/garbage.ogg"
# The 10-byte ID3v2.4 header of library/Alpha Artist/First Album/01 - One.mp3: it declares a tag
# body of several hundred bytes, and the file ends right after the header.
head -c 10 "$OUT/library/Alpha Artist/First Album/01 - One.mp3" > "$D/header-only.mp3"

cd "$OUT"
find library broken -type f -printf '%8s  %p\n' | sort -k2
find library broken -type f -printf '%s\n' | awk '{ total += $1 } END { print "total bytes in files:", total }'
