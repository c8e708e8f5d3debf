//! `gen-library DEST TRACKS [--flac-percent P] [--seed S]`: writes TRACKS tiny audio files under
//! DEST as `Artist/Album (Year)/NN Title.ext`, about ten tracks an album and four albums an
//! artist, with tags as a real library has them: multi-artist credits ("A feat. B"), album
//! artists, track and disc numbers, years, one or two genres, a cover image in some folders.
//!
//! Each file is a copy of a one-second template (MP3 or FLAC from the catalog's fixtures) with
//! its own tags written by lofty, so generating 50,000 tracks takes seconds, not hours.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lofty::config::WriteOptions;
use lofty::tag::{Accessor, ItemKey, Tag, TagExt, TagType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../catalog/tests/fixtures/library"
);
const MP3_TEMPLATE: &str = "Compilations/Greatest Hits/01 Gamma - Gamma Hit.mp3";
const FLAC_TEMPLATE: &str = "Beta Singer/Second Album/01 Flac Song.flac";
const COVER: &str = "Alpha Artist/First Album/cover.jpg";

const GENRES: [&str; 16] = [
    "Rock",
    "Pop",
    "Jazz",
    "Blues",
    "Electronic",
    "Ambient",
    "Classical",
    "Folk",
    "Hip-Hop",
    "Metal",
    "Soul",
    "Reggae",
    "Country",
    "Punk",
    "Funk",
    "Techno",
];
const WORDS: [&str; 32] = [
    "Midnight", "River", "Golden", "Echo", "Silver", "Dream", "Fire", "Ocean", "Shadow", "Light",
    "Summer", "Winter", "Heart", "Road", "City", "Stars", "Rain", "Wild", "Blue", "Electric",
    "Velvet", "Paper", "Glass", "Stone", "Northern", "Southern", "Lonely", "Happy", "Broken",
    "Secret", "Morning", "Evening",
];

fn words(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

struct Args {
    dest: PathBuf,
    tracks: usize,
    flac_percent: u32,
    seed: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let dest = args
        .next()
        .ok_or("usage: gen-library DEST TRACKS [--flac-percent P] [--seed S]")?;
    let tracks = args
        .next()
        .ok_or("TRACKS missing")?
        .parse()
        .map_err(|_| "TRACKS must be a number")?;
    let mut parsed = Args {
        dest: PathBuf::from(dest),
        tracks,
        flac_percent: 10,
        seed: 42,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--flac-percent" => {
                parsed.flac_percent = value.parse().map_err(|_| "bad --flac-percent")?
            }
            "--seed" => parsed.seed = value.parse().map_err(|_| "bad --seed")?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(parsed)
}

fn write_track(path: &Path, template: &[u8], tag_type: TagType, tag: &Tag) -> Result<(), String> {
    std::fs::write(path, template).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut tag = tag.clone();
    // Re-type the tag for the container (ID3v2 for MP3, Vorbis comments for FLAC).
    if tag.tag_type() != tag_type {
        tag.re_map(tag_type);
    }
    tag.save_to_path(path, WriteOptions::default())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("gen-library: {e}");
            return ExitCode::from(2);
        }
    };
    let fixtures = Path::new(FIXTURES);
    let (mp3, flac, cover) = match (
        std::fs::read(fixtures.join(MP3_TEMPLATE)),
        std::fs::read(fixtures.join(FLAC_TEMPLATE)),
        std::fs::read(fixtures.join(COVER)),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        _ => {
            eprintln!("gen-library: the catalog fixtures are missing (scripts/make-fixtures.sh makes them)");
            return ExitCode::FAILURE;
        }
    };
    let mut rng = StdRng::seed_from_u64(args.seed);
    let started = std::time::Instant::now();
    let mut written = 0usize;
    let mut artist_index = 0usize;
    while written < args.tracks {
        artist_index += 1;
        let artist = format!("{} {artist_index}", words(&mut rng, 2));
        let albums = rng.gen_range(1..=7);
        for album_index in 0..albums {
            if written >= args.tracks {
                break;
            }
            let year = rng.gen_range(1960..=2025);
            let album_words = rng.gen_range(1..=3);
            let album = format!("{} {}", words(&mut rng, album_words), album_index + 1);
            let dir = args.dest.join(&artist).join(format!("{album} ({year})"));
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("gen-library: {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
            if rng.gen_range(0..3) == 0 {
                let _ = std::fs::write(dir.join("cover.jpg"), &cover);
            }
            let genre_count = rng.gen_range(1..=2);
            let genres: Vec<&str> = (0..genre_count)
                .map(|_| GENRES[rng.gen_range(0..GENRES.len())])
                .collect();
            let discs = if rng.gen_range(0..10) == 0 { 2 } else { 1 };
            let per_disc = rng.gen_range(6..=12);
            let is_flac = rng.gen_range(0..100) < args.flac_percent;
            for disc in 1..=discs {
                for number in 1..=per_disc {
                    if written >= args.tracks {
                        break;
                    }
                    let title_words = rng.gen_range(1..=4);
                    let title = words(&mut rng, title_words);
                    let mut tag = Tag::new(TagType::Id3v2);
                    let credit = if rng.gen_range(0..8) == 0 {
                        format!(
                            "{artist} feat. {} {}",
                            words(&mut rng, 1),
                            rng.gen_range(1..1000)
                        )
                    } else {
                        artist.clone()
                    };
                    tag.set_title(title.clone());
                    tag.set_artist(credit);
                    tag.set_album(album.clone());
                    tag.insert_text(ItemKey::AlbumArtist, artist.clone());
                    tag.set_track(number);
                    tag.set_track_total(per_disc);
                    tag.set_disk(disc);
                    tag.set_disk_total(discs);
                    tag.insert_text(ItemKey::RecordingDate, year.to_string());
                    tag.set_genre(genres.join(";"));
                    let (ext, template, tag_type) = if is_flac {
                        ("flac", &flac, TagType::VorbisComments)
                    } else {
                        ("mp3", &mp3, TagType::Id3v2)
                    };
                    let file = dir.join(format!("{disc}-{number:02} {title}.{ext}"));
                    if let Err(e) = write_track(&file, template, tag_type, &tag) {
                        eprintln!("gen-library: {e}");
                        return ExitCode::FAILURE;
                    }
                    written += 1;
                    if written.is_multiple_of(10_000) {
                        eprintln!(
                            "{written} tracks ({:.1} s)",
                            started.elapsed().as_secs_f64()
                        );
                    }
                }
            }
        }
    }
    println!(
        "wrote {written} tracks by {artist_index} artists under {} in {:.1} s",
        args.dest.display(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
