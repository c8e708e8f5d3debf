//! Search benchmarks on a generated catalog (see `docs/benchmarks.md`).
//!
//! `search-bench build DATA_DIR TRACKS` fills the search service's read model (SQLite, in
//! `DATA_DIR/search.db`) with TRACKS generated tracks by some 5% as many artists, ten tracks to an
//! album, then times a full rebuild of the index in `DATA_DIR/search` and writes
//! `DATA_DIR/queries.txt`: what people type, keystroke by keystroke (every prefix of a name),
//! a fifth of them with a typo.
//!
//! `search-bench freshness DATA_DIR N` opens that data (no server may be running on it) with
//! the in-process bus, publishes N `catalog.track.added` events one at a time and reports how
//! long each took to become searchable.
//!
//! `search-bench profile DATA_DIR N` runs the first N queries of `queries.txt` one at a time in
//! this process and reports the time by query length, and the slowest queries.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use beatstream_db::{value_rows, Db, DbLocation};
use beatstream_events::catalog::{NamedRef, TrackAdded, TrackSummary};
use beatstream_events::directory::NoDirectory;
use beatstream_events::{Envelope, EventBus, MemoryBus};
use beatstream_search::schema::Kind;
use beatstream_search::{SearchService, SearchStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

const COMMON: [&str; 48] = [
    "love",
    "night",
    "heart",
    "baby",
    "dance",
    "time",
    "light",
    "fire",
    "dream",
    "home",
    "world",
    "blue",
    "girl",
    "boy",
    "rain",
    "summer",
    "city",
    "road",
    "star",
    "river",
    "gold",
    "wild",
    "sweet",
    "song",
    "midnight",
    "shadow",
    "ocean",
    "electric",
    "paper",
    "stone",
    "secret",
    "morning",
    "angel",
    "devil",
    "highway",
    "lonely",
    "crazy",
    "forever",
    "tonight",
    "yesterday",
    "sunshine",
    "thunder",
    "velvet",
    "silver",
    "ghost",
    "echo",
    "kingdom",
    "mirror",
];
const ONSETS: [&str; 20] = [
    "b", "br", "c", "d", "dr", "f", "g", "gr", "k", "l", "m", "n", "p", "r", "s", "st", "t", "v",
    "z", "th",
];
const VOWELS: [&str; 10] = ["a", "e", "i", "o", "u", "ai", "ou", "é", "ö", "y"];
const CODAS: [&str; 8] = ["", "n", "r", "s", "l", "m", "x", "nd"];

/// A made-up word: names in a big library are mostly words no dictionary has.
fn coined(rng: &mut StdRng) -> String {
    let syllables = rng.gen_range(2..=3);
    let mut word = String::new();
    for _ in 0..syllables {
        word.push_str(ONSETS[rng.gen_range(0..ONSETS.len())]);
        word.push_str(VOWELS[rng.gen_range(0..VOWELS.len())]);
    }
    word.push_str(CODAS[rng.gen_range(0..CODAS.len())]);
    word
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// 1 to 4 words, common ones (Zipf-like: the first ones most) mixed with coined ones.
fn name(rng: &mut StdRng, max_words: usize) -> String {
    let words = rng.gen_range(1..=max_words);
    (0..words)
        .map(|_| {
            if rng.gen_bool(0.5) {
                let rank = (rng.gen::<f64>().powi(2) * COMMON.len() as f64) as usize;
                capitalized(COMMON[rank.min(COMMON.len() - 1)])
            } else {
                capitalized(&coined(rng))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

async fn open_db(data: &Path) -> Result<Db, String> {
    let db = Db::open(
        &DbLocation::SqliteFile(data.join("search.db")),
        beatstream_search::SERVICE,
        4,
    )
    .await
    .map_err(|e| e.to_string())?;
    db.migrate(beatstream_search::SERVICE, &beatstream_search::MIGRATIONS)
        .await
        .map_err(|e| e.to_string())?;
    Ok(db)
}

/// What a person types on the way to `target`: every prefix, sometimes with a typo.
fn keystrokes(rng: &mut StdRng, target: &str, out: &mut Vec<String>) {
    let mut text: String = target.to_lowercase();
    if rng.gen_bool(0.2) {
        // Swap two letters of a long word.
        if let Some(word) = text
            .split(' ')
            .find(|w| w.chars().count() >= 5)
            .map(String::from)
        {
            let chars: Vec<char> = word.chars().collect();
            let i = rng.gen_range(1..chars.len() - 1);
            let mut swapped = chars.clone();
            swapped.swap(i, i + 1);
            text = text.replacen(&word, &swapped.into_iter().collect::<String>(), 1);
        }
    }
    let chars: Vec<char> = text.chars().collect();
    for end in 1..=chars.len() {
        let prefix: String = chars[..end].iter().collect();
        if !prefix.ends_with(' ') {
            out.push(prefix);
        }
    }
}

async fn build(data: PathBuf, tracks: usize) -> Result<(), String> {
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let db = open_db(&data).await?;
    let mut rng = StdRng::seed_from_u64(7);
    let artists: Vec<NamedRef> = (0..(tracks / 20).max(1))
        .map(|i| NamedRef {
            id: format!("ar{i:07}"),
            name: name(&mut rng, 3),
        })
        .collect();
    let genres = [
        "Rock",
        "Pop",
        "Jazz",
        "Hip-Hop",
        "Electronic",
        "Folk",
        "Metal",
        "Soul",
    ];
    let started = Instant::now();
    let mut targets: Vec<String> = Vec::new();
    let mut album = NamedRef {
        id: String::new(),
        name: String::new(),
    };
    let mut album_artist = artists[0].clone();
    let mut year = 2000;
    let mut genre = genres[0];
    let mut batch: Vec<TrackSummary> = Vec::new();
    for i in 0..tracks {
        if i % 10 == 0 {
            album_artist = artists[rng.gen_range(0..artists.len())].clone();
            album = NamedRef {
                id: format!("al{:07}", i / 10),
                name: name(&mut rng, 3),
            };
            year = rng.gen_range(1950..2026);
            genre = genres[rng.gen_range(0..genres.len())];
            if i % 5_000 == 0 {
                targets.push(album.name.clone());
                targets.push(album_artist.name.clone());
            }
        }
        let mut track_artists = vec![album_artist.clone()];
        if rng.gen_bool(0.1) {
            track_artists.push(artists[rng.gen_range(0..artists.len())].clone());
        }
        let title = name(&mut rng, 4);
        if i % 1_000 == 0 {
            targets.push(title.clone());
        }
        batch.push(TrackSummary {
            track_id: format!("t{i:08}"),
            title,
            artists: track_artists,
            album: album.clone(),
            album_artists: vec![album_artist.clone()],
            genres: vec![genre.to_string()],
            year: Some(year),
            track_number: Some((i % 10 + 1) as i64),
            disc_number: Some(1),
            duration_ms: rng.gen_range(90_000..420_000),
            format: "flac".into(),
            bitrate_kbps: Some(900),
            path: format!(
                "{}/{}/{:02}.flac",
                album_artist.name,
                album.name,
                i % 10 + 1
            ),
        });
        if batch.len() == 500 || i + 1 == tracks {
            insert(&db, &batch, &mut rng).await?;
            batch.clear();
        }
    }
    let filled = started.elapsed();
    let mut queries = Vec::new();
    for target in &targets {
        keystrokes(&mut rng, target, &mut queries);
    }
    let mut file = std::fs::File::create(data.join("queries.txt")).map_err(|e| e.to_string())?;
    for q in &queries {
        writeln!(file, "{q}").map_err(|e| e.to_string())?;
    }

    let service = SearchService::open(
        SearchStore::new(db.clone()),
        data.join("search"),
        Arc::new(NoDirectory),
    )
    .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let documents = service.rebuild().await.map_err(|e| e.to_string())?;
    let built = started.elapsed();
    println!("tracks: {tracks}");
    println!("read model filled in: {:.1} s", filled.as_secs_f64());
    println!("documents indexed: {documents}");
    println!("index build: {:.1} s", built.as_secs_f64());
    println!(
        "index on disk: {:.0} MiB",
        dir_bytes(&data.join("search")) as f64 / (1 << 20) as f64
    );
    println!(
        "peak RSS of this process: {} MiB",
        beatstream_bench::status_kib("VmHWM") / 1024
    );
    println!("queries written: {} (data/queries.txt)", queries.len());
    db.close().await;
    Ok(())
}

async fn insert(db: &Db, batch: &[TrackSummary], rng: &mut StdRng) -> Result<(), String> {
    let e = |e: sqlx::Error| e.to_string();
    let mut tx = db.begin_write().await.map_err(e)?;
    let sql = format!(
        "INSERT INTO tracks (id, event_id, album_id, summary, removed) VALUES {}",
        value_rows(&tx, batch.len(), 5)
    );
    let mut query = sqlx::query(&sql);
    for track in batch {
        query = query
            .bind(&track.track_id)
            .bind("")
            .bind(&track.album.id)
            .bind(serde_json::to_string(track).unwrap_or_default())
            .bind(0_i64);
    }
    query.execute(&mut *tx).await.map_err(e)?;
    let links: Vec<(&str, &str)> = batch
        .iter()
        .flat_map(|t| {
            let mut ids: Vec<&str> = t.artists.iter().map(|a| a.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            ids.into_iter().map(move |a| (a, t.track_id.as_str()))
        })
        .collect();
    let sql = format!(
        "INSERT INTO track_artists (artist_id, track_id) VALUES {}",
        value_rows(&tx, links.len(), 2)
    );
    let mut query = sqlx::query(&sql);
    for (artist, track) in &links {
        query = query.bind(*artist).bind(*track);
    }
    query.execute(&mut *tx).await.map_err(e)?;
    // A tenth of the tracks have been played, a few of them a lot.
    let mut played: Vec<(&str, i64)> = Vec::new();
    for track in batch {
        if rng.gen_bool(0.1) {
            let plays = (1.0 / rng.gen::<f64>().max(0.001)) as i64;
            played.push((track.track_id.as_str(), plays));
        }
    }
    if !played.is_empty() {
        let sql = format!(
            "INSERT INTO track_plays (track_id, plays) VALUES {}",
            value_rows(&tx, played.len(), 2)
        );
        let mut query = sqlx::query(&sql);
        for (track, plays) in &played {
            query = query.bind(*track).bind(*plays);
        }
        query.execute(&mut *tx).await.map_err(e)?;
    }
    tx.commit().await.map_err(e)
}

/// The search service on `data`'s read model and index, without a catalog to fill from.
async fn open_service(data: &Path) -> Result<(Db, SearchService), String> {
    let db = open_db(data).await?;
    let service = SearchService::open(
        SearchStore::new(db.clone()),
        data.join("search"),
        Arc::new(NoDirectory),
    )
    .map_err(|e| e.to_string())?;
    Ok((db, service))
}

async fn freshness(data: PathBuf, n: usize) -> Result<(), String> {
    let (db, service) = open_service(&data).await?;
    let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
    let shutdown = CancellationToken::new();
    let consumers =
        beatstream_search::spawn_consumers(service.clone(), bus.clone(), shutdown.clone())
            .await
            .map_err(|e| e.to_string())?;
    let indexer = service.spawn_indexer(shutdown.clone());
    let mut waits = Vec::new();
    for i in 0..n {
        let title = format!("Freshness Probe Zqx{i}");
        let track = TrackSummary {
            track_id: format!("fresh{i:05}-{}", std::process::id()),
            title: title.clone(),
            artists: vec![NamedRef {
                id: "ar-fresh".into(),
                name: "Probe Artist".into(),
            }],
            album: NamedRef {
                id: "al-fresh".into(),
                name: "Probes".into(),
            },
            album_artists: Vec::new(),
            genres: Vec::new(),
            year: None,
            track_number: None,
            disc_number: None,
            duration_ms: 1_000,
            format: "mp3".into(),
            bitrate_kbps: None,
            path: String::new(),
        };
        let probe_id = track.track_id.clone();
        let envelope = Envelope::new(&TrackAdded { track }).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let publisher = bus.clone();
        tokio::spawn(async move { publisher.publish(&envelope).await });
        let query = format!("zqx{i} ");
        loop {
            let results = service
                .search(&query, &[Kind::Track], 5, "bench")
                .map_err(|e| e.to_string())?;
            // The probe itself (earlier probes are one typo away).
            if results
                .kinds
                .iter()
                .any(|(_, hits)| hits.iter().any(|h| h.body.contains(&probe_id)))
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("{title} was not searchable after 30 s"));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        waits.push(started.elapsed());
        // Changes arrive one at a time here, the slow case: each pays a commit of its own.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    for consumer in consumers {
        let _ = consumer.await;
    }
    let _ = indexer.await;
    waits.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "catalog event to searchable, {} changes: p50 {:.0} ms, p90 {:.0} ms, max {:.0} ms",
        waits.len(),
        ms(waits[waits.len() / 2]),
        ms(waits[waits.len() * 9 / 10]),
        ms(waits[waits.len() - 1])
    );
    db.close().await;
    Ok(())
}

/// Every query of queries.txt once, in this process, one at a time: where the time goes.
async fn profile(data: PathBuf, n: usize) -> Result<(), String> {
    let (db, service) = open_service(&data).await?;
    let text = std::fs::read_to_string(data.join("queries.txt")).map_err(|e| e.to_string())?;
    let mut by_length: std::collections::BTreeMap<usize, Vec<Duration>> = Default::default();
    let mut slowest: Vec<(Duration, String, usize)> = Vec::new();
    for q in text.lines().take(n) {
        let started = Instant::now();
        let results = service
            .search(q, &[], 10, "bench")
            .map_err(|e| e.to_string())?;
        let took = started.elapsed();
        let hits: usize = results.kinds.iter().map(|(_, h)| h.len()).sum();
        by_length
            .entry(q.chars().count().min(12))
            .or_default()
            .push(took);
        slowest.push((took, q.to_string(), hits));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| characters typed | queries | p50 | p99 | max |");
    println!("| --- | --- | --- | --- | --- |");
    for (length, mut times) in by_length {
        times.sort();
        println!(
            "| {}{length} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
            if length == 12 { ">=" } else { "" },
            times.len(),
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100]),
            ms(times[times.len() - 1])
        );
    }
    slowest.sort_by_key(|b| std::cmp::Reverse(b.0));
    println!("slowest:");
    for (took, q, hits) in slowest.iter().take(15) {
        println!("  {:.2} ms  {q:?} ({hits} hits)", ms(*took));
    }
    db.close().await;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: search-bench build DATA_DIR TRACKS | freshness DATA_DIR N | profile DATA_DIR N";
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("search-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.as_slice() {
        [cmd, data, count] => match count.parse::<usize>() {
            Ok(count) if count > 0 => {
                let data = PathBuf::from(data);
                match cmd.as_str() {
                    "build" => runtime.block_on(build(data, count)),
                    "freshness" => runtime.block_on(freshness(data, count)),
                    "profile" => runtime.block_on(profile(data, count)),
                    _ => Err(usage.to_string()),
                }
            }
            _ => Err(usage.to_string()),
        },
        _ => Err(usage.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("search-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
