//! `rec-eval`: offline evaluation and serving benchmark of the recommendation models.
//!
//! ```text
//! rec-eval movielens DIR      MovieLens-100K (DIR/ml-100k/ml-100k.{inter,item}), ratings >= 4
//! rec-eval simulate LIBRARY   listening logs simulated over a real music folder (hidden taste groups)
//! rec-eval serve              10,000 listeners, 1,000,000 interactions: p50/p99 of a request
//! options: --tune (pick ALS settings, recency and blend on a validation split of the
//!          training data first; the test items are never looked at)
//!          --python CMD (default python3; "none" skips the `implicit` reference)
//!          --factors N --regularization X --alpha X --iterations N (both ALS implementations)
//!          --users N --interactions N --tracks N --requests N --concurrency N --seed N
//! ```
//!
//! Each listener's interactions are split by time: the last 20% of their items are held out
//! (listeners with at least 5 items), everything earlier trains. Every model ranks 50 items
//! per test listener, leaving out what they had in training, and the same code scores them:
//! NDCG@10, Recall@50, coverage of the catalog by the top-10 lists, time to train and to serve.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use beatstream_recommend::eval::{self, Interaction, Scores, Split};
use beatstream_recommend::items::{ItemMeta, Items};
use beatstream_recommend::model::{
    recency_weighted, Blend, Model, ModelParams, Taste, TrainingData,
};
use beatstream_recommend::sparse::Csr;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

#[derive(Clone)]
struct Options {
    tune: bool,
    python: String,
    params: ModelParams,
    users: usize,
    interactions: usize,
    tracks: usize,
    requests: usize,
    concurrency: usize,
    seed: u64,
}

fn parse(args: &[String]) -> (Vec<String>, Options) {
    let mut o = Options {
        tune: false,
        python: "python3".into(),
        params: ModelParams::default(),
        users: 0,
        interactions: 0,
        tracks: 0,
        requests: 2000,
        concurrency: 8,
        seed: 7,
    };
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| panic!("{arg} needs a value"))
        };
        match arg.as_str() {
            "--python" => o.python = value(),
            "--tune" => o.tune = true,
            "--half-life" => o.params.recency_half_life = value().parse().unwrap(),
            "--factors" => o.params.als.factors = value().parse().unwrap(),
            "--regularization" => o.params.als.regularization = value().parse().unwrap(),
            "--alpha" => o.params.als.alpha = value().parse().unwrap(),
            "--iterations" => o.params.als.iterations = value().parse().unwrap(),
            "--users" => o.users = value().parse().unwrap(),
            "--interactions" => o.interactions = value().parse().unwrap(),
            "--tracks" => o.tracks = value().parse().unwrap(),
            "--requests" => o.requests = value().parse().unwrap(),
            "--concurrency" => o.concurrency = value().parse().unwrap(),
            "--seed" => o.seed = value().parse().unwrap(),
            "--blend" => {
                let w: Vec<f32> = value().split(',').map(|x| x.parse().unwrap()).collect();
                o.params.blend = Blend {
                    als: w[0],
                    knn: w[1],
                    content: w[2],
                    popularity: w[3],
                };
            }
            other if other.starts_with("--") => panic!("unknown option {other}"),
            _ => positional.push(arg.clone()),
        }
    }
    (positional, o)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (positional, options) = parse(&args);
    match positional.first().map(String::as_str) {
        Some("movielens") => {
            let dir = PathBuf::from(positional.get(1).expect("movielens DIR"));
            let data = movielens(&dir);
            evaluate(data, &options, None);
        }
        Some("simulate") => {
            let library = PathBuf::from(positional.get(1).expect("simulate LIBRARY_DIR"));
            let (data, groups) = simulate(&library, &options);
            evaluate(data, &options, Some(&groups));
        }
        Some("serve") => serve(&options),
        _ => {
            eprintln!("usage: rec-eval movielens DIR | simulate LIBRARY_DIR | serve [options]");
            std::process::exit(2);
        }
    }
}

/// A data set: the items with their metadata and who did what when.
struct Dataset {
    name: String,
    items: Items,
    users: usize,
    interactions: Vec<Interaction>,
}

fn movielens(dir: &Path) -> Dataset {
    let base = dir.join("ml-100k");
    let mut items = Items::default();
    let item_file = std::fs::read_to_string(base.join("ml-100k.item")).expect("ml-100k.item");
    for line in item_file.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 4 {
            continue;
        }
        items.push(ItemMeta {
            id: fields[0].to_string(),
            artists: vec![],
            album: None,
            genres: fields[3].split(' ').map(str::to_string).collect(),
            year: fields[2].parse().ok(),
        });
    }
    let inter = std::fs::read_to_string(base.join("ml-100k.inter")).expect("ml-100k.inter");
    let mut users: HashMap<String, u32> = HashMap::new();
    let mut interactions = Vec::new();
    for line in inter.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let rating: f32 = f[2].parse().unwrap_or(0.0);
        if rating < 4.0 {
            continue;
        }
        let Some(item) = items.index_of(f[1]) else {
            continue;
        };
        let next = users.len() as u32;
        let user = *users.entry(f[0].to_string()).or_insert(next);
        interactions.push(Interaction {
            user,
            item,
            value: 1.0,
            at: f[3].parse::<f64>().unwrap_or(0.0) as i64,
        });
    }
    Dataset {
        name: "MovieLens-100K (ratings >= 4 as positives)".into(),
        items,
        users: users.len(),
        interactions,
    }
}

/// Which hidden group each simulated listener is in, and what each group likes.
struct Groups {
    of_user: Vec<usize>,
    liked_albums: Vec<BTreeSet<String>>,
    album_of: Vec<String>,
}

/// Listening logs over a real library: listeners in six hidden taste groups, each group
/// fond of a fifth of the albums. A session plays a run of an album (80% one the group likes,
/// 20% any), so the logs have the shape of real listening: albums, favourites, noise.
fn simulate(library: &Path, o: &Options) -> (Dataset, Groups) {
    // What the server's scan finds and reads, with its default separators.
    let defaults = beatstream_config::Config::default().catalog;
    let separators = beatstream_catalog::tags::Separators {
        artists: defaults.artist_separators,
        genres: defaults.genre_separators,
    };
    let mut files: Vec<PathBuf> = Vec::new();
    beatstream_catalog::scan::walk_library(
        library,
        &mut |f| files.push(f.absolute),
        &mut Vec::new(),
    );
    files.sort();
    let mut items = Items::default();
    let mut album_of = Vec::new();
    for path in &files {
        let Ok(tags) = beatstream_catalog::tags::read_file(path, &separators) else {
            continue;
        };
        let artists = if tags.artists.is_empty() {
            tags.album_artists.clone()
        } else {
            tags.artists.clone()
        };
        let album = tags.album.clone().unwrap_or_else(|| {
            path.parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        });
        let id = path.display().to_string();
        let before = items.len();
        items.push(ItemMeta {
            id,
            artists: artists
                .iter()
                .map(|a| (a.to_lowercase(), a.clone()))
                .collect(),
            album: Some(album.clone()),
            genres: tags.genres.clone(),
            year: tags.year,
        });
        if items.len() > before {
            album_of.push(album);
        }
    }
    assert!(
        !items.is_empty(),
        "no audio files under {}",
        library.display()
    );
    let mut rng = StdRng::seed_from_u64(o.seed);
    let albums: Vec<String> = {
        let set: BTreeSet<&String> = album_of.iter().collect();
        set.into_iter().cloned().collect()
    };
    let group_count = 6;
    let liked_albums: Vec<BTreeSet<String>> = (0..group_count)
        .map(|_| {
            let mut a = albums.clone();
            a.shuffle(&mut rng);
            a.truncate((albums.len() / 5).max(2));
            a.into_iter().collect()
        })
        .collect();
    let tracks_of_album: BTreeMap<&String, Vec<u32>> =
        album_of
            .iter()
            .enumerate()
            .fold(BTreeMap::new(), |mut m, (i, a)| {
                m.entry(a).or_insert_with(Vec::new).push(i as u32);
                m
            });
    let users = if o.users > 0 { o.users } else { 400 };
    let mut of_user = Vec::with_capacity(users);
    let mut interactions = Vec::new();
    for user in 0..users {
        let group = user % group_count;
        of_user.push(group);
        let liked: Vec<&String> = liked_albums[group].iter().collect();
        let mut at = rng.gen_range(0..1_000_000i64);
        for _ in 0..rng.gen_range(4..16) {
            let album = if rng.gen_bool(0.8) {
                liked[rng.gen_range(0..liked.len())]
            } else {
                &albums[rng.gen_range(0..albums.len())]
            };
            let tracks = &tracks_of_album[album];
            let start = rng.gen_range(0..tracks.len());
            let run = rng.gen_range(2..=8).min(tracks.len());
            for k in 0..run {
                let item = tracks[(start + k) % tracks.len()];
                at += rng.gen_range(120..400);
                interactions.push(Interaction {
                    user: user as u32,
                    item,
                    value: 1.0,
                    at,
                });
            }
            at += rng.gen_range(3600..86_400);
        }
    }
    let data = Dataset {
        name: format!(
            "SIMULATED listening over {} ({} tracks, {} albums; {} listeners in {} hidden taste groups)",
            library.display(),
            items.len(),
            albums.len(),
            users,
            group_count
        ),
        items,
        users,
        interactions,
    };
    (
        data,
        Groups {
            of_user,
            liked_albums,
            album_of,
        },
    )
}

struct Row {
    name: String,
    scores: Scores,
    train: Duration,
    serve_mean: Duration,
    serve_p99: Duration,
    in_group: Option<f64>,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The share of top-10 picks from albums the listener's hidden group likes.
fn in_group(split: &Split, lists: &[Vec<u32>], groups: &Groups) -> f64 {
    let (mut hits, mut total) = (0usize, 0usize);
    for ((user, _), list) in split.test.iter().zip(lists) {
        let liked = &groups.liked_albums[groups.of_user[*user as usize]];
        for item in list.iter().take(10) {
            total += 1;
            if liked.contains(&groups.album_of[*item as usize]) {
                hits += 1;
            }
        }
    }
    hits as f64 / total.max(1) as f64
}

/// A split's training rows per listener, with when they last had each item.
struct Trained {
    model: Model,
    rows: Vec<Vec<(u32, f32)>>,
    last_at: HashMap<(u32, u32), i64>,
    train: Duration,
}

fn train(items: &Items, users: usize, split: &Split, params: ModelParams) -> Trained {
    let user_items = eval::user_items(&split.train, users, items.len());
    let rows = (0..users)
        .map(|u| {
            let (cols, vals) = user_items.row(u);
            cols.iter().copied().zip(vals.iter().copied()).collect()
        })
        .collect();
    let mut last_at: HashMap<(u32, u32), i64> = HashMap::new();
    for i in &split.train {
        let at = last_at.entry((i.user, i.item)).or_insert(i.at);
        *at = (*at).max(i.at);
    }
    let started = Instant::now();
    let model = Model::train(
        TrainingData {
            items: items.clone(),
            user_items,
            baskets: Csr::default_with_columns(items.len()),
        },
        params,
    );
    Trained {
        model,
        rows,
        last_at,
        train: started.elapsed(),
    }
}

/// Ranks 50 items for each test listener with `blend`, as the service does: their history
/// weighted towards its recent end, their training items left out.
fn rank(
    t: &mut Trained,
    split: &Split,
    blend: Blend,
    half_life: f32,
) -> (Vec<Vec<u32>>, Vec<Duration>) {
    t.model.set_blend(blend);
    let mut lists = Vec::with_capacity(split.test.len());
    let mut times = Vec::with_capacity(split.test.len());
    for (user, _) in &split.test {
        let history = &t.rows[*user as usize];
        let timed: Vec<(u32, f32, i64)> = history
            .iter()
            .map(|(i, s)| (*i, *s, t.last_at.get(&(*user, *i)).copied().unwrap_or(0)))
            .collect();
        let taste = Taste {
            history: recency_weighted(timed, half_life),
            exclude: history.iter().map(|(i, _)| *i).collect(),
            ..Taste::default()
        };
        let started = Instant::now();
        let picks = t.model.recommend(&taste, 50);
        times.push(started.elapsed());
        lists.push(picks.into_iter().map(|p| p.item).collect::<Vec<u32>>());
    }
    times.sort();
    (lists, times)
}

/// Picks ALS settings, recency and blend on a validation split carved from the training data
/// (each listener's last 20% of training items), never looking at the test items.
fn tune(data: &Dataset, split: &Split, o: &Options) -> ModelParams {
    let validation = eval::split_by_time(&split.train, 0.2, 5);
    println!(
        "tuning on a validation split of the training data ({} listeners):",
        validation.test.len()
    );
    println!();
    println!("| factors | regularization | alpha | half-life | blend (ALS, kNN, content, popularity) | validation NDCG@10 |");
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut best = (f64::MIN, o.params);
    for factors in [64, 128] {
        for regularization in [10.0, 30.0] {
            for alpha in [5.0, 20.0] {
                let mut params = o.params;
                params.als.factors = factors;
                params.als.regularization = regularization;
                params.als.alpha = alpha;
                let mut t = train(&data.items, data.users, &validation, params);
                for half_life in [5.0, 20.0] {
                    for blend in [
                        Blend::default(),
                        Blend {
                            als: 1.0,
                            knn: 0.6,
                            content: 0.3,
                            popularity: 0.05,
                        },
                    ] {
                        let (lists, _) = rank(&mut t, &validation, blend, half_life);
                        let ndcg = eval::score(&validation, &lists, data.items.len()).ndcg_at_10;
                        println!(
                            "| {factors} | {regularization} | {alpha} | {half_life} | {}, {}, {}, {} | {ndcg:.4} |",
                            blend.als, blend.knn, blend.content, blend.popularity
                        );
                        if ndcg > best.0 {
                            let mut chosen = params;
                            chosen.blend = blend;
                            chosen.recency_half_life = half_life;
                            best = (ndcg, chosen);
                        }
                    }
                }
            }
        }
    }
    println!();
    best.1
}

fn evaluate(data: Dataset, o: &Options, groups: Option<&Groups>) {
    let split = eval::split_by_time(&data.interactions, 0.2, 5);
    let n_items = data.items.len();
    println!("## {}", data.name);
    println!(
        "{} listeners, {} items, {} interactions; {} train, {} test listeners holding out {} items",
        data.users,
        n_items,
        data.interactions.len(),
        split.train.len(),
        split.test.len(),
        split.test.iter().map(|t| t.1.len()).sum::<usize>()
    );
    let params = if o.tune {
        tune(&data, &split, o)
    } else {
        o.params
    };
    let p = params.als;
    println!(
        "ALS (both): factors {}, regularization {}, alpha {} (confidence 1 + alpha x value), {} iterations; \
         history half-life {} items; blend {:?}",
        p.factors, p.regularization, p.alpha, p.iterations, params.recency_half_life, params.blend
    );
    let mut t = train(&data.items, data.users, &split, params);
    println!(
        "trained in {:.2} s (ALS {:.2} s, neighbours {:.2} s)",
        t.train.as_secs_f64(),
        t.model.stats.als_ms as f64 / 1000.0,
        t.model.stats.knn_ms as f64 / 1000.0
    );
    let alone = |als, knn, content, popularity| Blend {
        als,
        knn,
        content,
        popularity,
    };
    let variants = [
        (
            "popularity (baseline)",
            alone(0.0, 0.0, 0.0, 1.0),
            Duration::ZERO,
        ),
        (
            "ALS (Beatstream)",
            alone(1.0, 0.0, 0.0, 0.0),
            Duration::from_millis(t.model.stats.als_ms),
        ),
        (
            "item-kNN (Beatstream)",
            alone(0.0, 1.0, 0.0, 0.0),
            Duration::from_millis(t.model.stats.knn_ms),
        ),
        (
            "content (Beatstream)",
            alone(0.0, 0.0, 1.0, 0.0),
            Duration::ZERO,
        ),
        ("blend, as served (Beatstream)", params.blend, t.train),
    ];
    let mut rows = Vec::new();
    for (name, blend, train_time) in variants {
        let (lists, times) = rank(&mut t, &split, blend, params.recency_half_life);
        rows.push(Row {
            name: name.into(),
            scores: eval::score(&split, &lists, n_items),
            train: train_time,
            serve_mean: times.iter().sum::<Duration>() / times.len().max(1) as u32,
            serve_p99: percentile(&times, 0.99),
            in_group: groups.map(|g| in_group(&split, &lists, g)),
        });
    }
    let train_rows = &t.rows;
    let o = &Options {
        params,
        ..o.clone()
    };
    if o.python != "none" {
        match implicit_reference(&split, train_rows, n_items, o) {
            Ok((lists, train, serve)) => {
                let per_user = serve / split.test.len().max(1) as u32;
                rows.push(Row {
                    name: "ALS (Python implicit, outside reference)".into(),
                    scores: eval::score(&split, &lists, n_items),
                    train,
                    serve_mean: per_user,
                    serve_p99: per_user,
                    in_group: groups.map(|g| in_group(&split, &lists, g)),
                });
            }
            Err(e) => println!("implicit reference not run: {e}"),
        }
    }
    println!();
    print!(
        "| model | NDCG@10 | Recall@50 | coverage@10 | train s | serve ms/listener (mean, p99) |"
    );
    println!(
        "{}",
        if groups.is_some() {
            " top-10 in hidden group |"
        } else {
            ""
        }
    );
    print!("| --- | --- | --- | --- | --- | --- |");
    println!("{}", if groups.is_some() { " --- |" } else { "" });
    for row in &rows {
        print!(
            "| {} | {:.4} | {:.4} | {:.3} | {:.2} | {:.3}, {:.3} |",
            row.name,
            row.scores.ndcg_at_10,
            row.scores.recall_at_50,
            row.scores.coverage_at_10,
            row.train.as_secs_f64(),
            row.serve_mean.as_secs_f64() * 1000.0,
            row.serve_p99.as_secs_f64() * 1000.0
        );
        match row.in_group {
            Some(g) => println!(" {:.3} |", g),
            None => println!(),
        }
    }
    let ndcg = |name: &str| {
        rows.iter()
            .find(|r| r.name.starts_with(name))
            .map(|r| r.scores.ndcg_at_10)
    };
    if let (Some(blend), Some(pop)) = (ndcg("blend"), ndcg("popularity")) {
        println!();
        println!(
            "blend NDCG@10 / popularity: {:.2}x (target >= 2x)",
            blend / pop.max(1e-9)
        );
        if let Some(implicit) = ndcg("ALS (Python") {
            println!(
                "blend NDCG@10 / implicit ALS: {:.2}x; Beatstream ALS / implicit ALS: {:.2}x (target >= 1x)",
                blend / implicit.max(1e-9),
                ndcg("ALS (Beatstream)").unwrap_or(0.0) / implicit.max(1e-9)
            );
        }
    }
    println!();
}

/// Runs `scripts/implicit_als.py` on the same training rows and reads its lists back.
fn implicit_reference(
    split: &Split,
    train_rows: &[Vec<(u32, f32)>],
    n_items: usize,
    o: &Options,
) -> Result<(Vec<Vec<u32>>, Duration, Duration), String> {
    let dir = std::env::temp_dir().join(format!("rec-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let train_path = dir.join("train.txt");
    let users_path = dir.join("users.txt");
    let out_path = dir.join("recs.txt");
    let mut train = String::new();
    for (user, row) in train_rows.iter().enumerate() {
        for (item, value) in row {
            train.push_str(&format!("{user} {item} {value}\n"));
        }
    }
    std::fs::write(&train_path, train).map_err(|e| e.to_string())?;
    let users: String = split.test.iter().map(|(u, _)| format!("{u}\n")).collect();
    std::fs::write(&users_path, users).map_err(|e| e.to_string())?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/implicit_als.py");
    let p = o.params.als;
    let output = Command::new(&o.python)
        .arg(&script)
        .arg(&train_path)
        .arg(&users_path)
        .arg(&out_path)
        .args([
            p.factors.to_string(),
            p.regularization.to_string(),
            p.alpha.to_string(),
            p.iterations.to_string(),
            p.threads.to_string(),
            n_items.to_string(),
        ])
        .output()
        .map_err(|e| format!("{}: {e}", o.python))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
    println!(
        "implicit {} ran (train {:.2} s)",
        report["version"].as_str().unwrap_or("?"),
        report["train_secs"].as_f64().unwrap_or(0.0)
    );
    let text = std::fs::read_to_string(&out_path).map_err(|e| e.to_string())?;
    let mut by_user: HashMap<u32, Vec<u32>> = HashMap::new();
    for line in text.lines() {
        let mut numbers = line.split(' ').filter_map(|x| x.parse::<u32>().ok());
        if let Some(user) = numbers.next() {
            by_user.insert(user, numbers.collect());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let lists = split
        .test
        .iter()
        .map(|(u, _)| by_user.remove(u).unwrap_or_default())
        .collect();
    let secs = |k: &str| Duration::from_secs_f64(report[k].as_f64().unwrap_or(0.0));
    Ok((lists, secs("train_secs"), secs("serve_secs")))
}

/// Serving at scale: a synthetic catalog and listening history written straight into the
/// service's SQLite tables, one training, then requests through the service itself (its
/// database reads included) from several tasks at once.
fn serve(o: &Options) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(serve_async(o));
}

async fn serve_async(o: &Options) {
    use beatstream_db::{Db, DbLocation};
    use beatstream_recommend::{RecommendService, RecommendSettings, RecommendStore, MIGRATIONS};

    let users = if o.users > 0 { o.users } else { 10_000 };
    let interactions = if o.interactions > 0 {
        o.interactions
    } else {
        1_000_000
    };
    let tracks = if o.tracks > 0 { o.tracks } else { 50_000 };
    let dir = std::env::temp_dir().join(format!("rec-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let location = DbLocation::SqliteFile(dir.join("recommendations.db"));
    let db = Db::open(&location, "recommendations", 8).await.unwrap();
    db.migrate("recommendations", &MIGRATIONS).await.unwrap();
    let mut rng = StdRng::seed_from_u64(o.seed);
    let started = Instant::now();
    // Tracks: 12 per album, 2 albums per artist, 40 genres.
    let mut tx = db.begin_write().await.unwrap();
    for chunk in (0..tracks).collect::<Vec<_>>().chunks(200) {
        let mut sql = String::from("INSERT INTO tracks (id, event_id, summary, removed) VALUES ");
        let mut values = Vec::new();
        for (k, t) in chunk.iter().enumerate() {
            let (album, artist) = (t / 12, t / 24);
            let summary = serde_json::json!({
                "track_id": format!("t{t}"), "title": format!("Track {t}"),
                "artists": [{"id": format!("ar{artist}"), "name": format!("Artist {artist}")}],
                "album": {"id": format!("al{album}"), "name": format!("Album {album}")},
                "album_artists": [], "genres": [format!("Genre {}", artist % 40)],
                "year": 1960 + (artist % 60) as i64, "track_number": (t % 12) as i64 + 1,
                "disc_number": 1, "duration_ms": 200000, "format": "flac",
                "bitrate_kbps": 900, "path": format!("{t}.flac")
            });
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str("(?, '', ?, 0)");
            values.push((format!("t{t}"), summary.to_string()));
        }
        let mut q = sqlx::query(&sql);
        for (id, summary) in values {
            q = q.bind(id).bind(summary);
        }
        q.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    // Listens: each listener in one of 50 taste groups (a slice of the artists), Zipf-like
    // popularity inside it, 10% anything.
    let per_user = interactions / users;
    let artists = tracks / 24;
    let mut tx = db.begin_write().await.unwrap();
    let mut batch: Vec<(String, String, i64, i64, i64)> = Vec::new();
    let now = beatstream_core::Timestamp::now().millis();
    for user in 0..users {
        let group = user % 50;
        let mut seen = HashSet::new();
        while seen.len() < per_user {
            let track = if rng.gen_bool(0.9) {
                let span = (artists / 50).max(1);
                let artist = group * span + (rng.gen::<f64>().powi(2) * span as f64) as usize;
                (artist * 24 + rng.gen_range(0..24)).min(tracks - 1)
            } else {
                rng.gen_range(0..tracks)
            };
            if seen.insert(track) {
                let plays = 1 + (rng.gen::<f64>().powi(3) * 20.0) as i64;
                let liked = i64::from(rng.gen_bool(0.1));
                let at = now - rng.gen_range(0..90 * 24 * 3600 * 1000i64);
                batch.push((format!("u{user}"), format!("t{track}"), plays, liked, at));
            }
        }
        if batch.len() >= 2000 || user + 1 == users {
            for chunk in batch.chunks(150) {
                let mut sql = String::from(
                    "INSERT INTO listens (user_id, track_id, plays, skips, last_played_at, liked) VALUES ",
                );
                sql.push_str(&vec!["(?, ?, ?, 0, ?, ?)"; chunk.len()].join(", "));
                let mut q = sqlx::query(&sql);
                for (u, t, plays, liked, at) in chunk {
                    q = q.bind(u).bind(t).bind(*plays).bind(*at).bind(*liked);
                }
                q.execute(&mut *tx).await.unwrap();
            }
            batch.clear();
        }
    }
    tx.commit().await.unwrap();
    println!(
        "wrote {tracks} tracks and {} listens of {users} listeners in {:.1} s",
        users * per_user,
        started.elapsed().as_secs_f64()
    );
    let service = RecommendService::new(
        RecommendStore::new(db.clone()),
        RecommendSettings {
            params: o.params,
            ..RecommendSettings::default()
        },
    );
    let started = Instant::now();
    let stats = service.retrain().await.unwrap();
    println!(
        "trained in {:.1} s (read {:.1} s, ALS {:.1} s, neighbours {:.1} s); RSS {} MiB",
        started.elapsed().as_secs_f64(),
        (started.elapsed().as_millis() as u64).saturating_sub(stats.train_ms) as f64 / 1000.0,
        stats.als_ms as f64 / 1000.0,
        stats.knn_ms as f64 / 1000.0,
        rss_mib()
    );
    {
        // Where a request's time goes: reading the listener's rows, then everything.
        let (mut read, mut whole) = (Vec::new(), Vec::new());
        for k in 0..300 {
            let user = beatstream_core::UserId(format!("u{}", (k * 37) % users));
            let t = Instant::now();
            service.store().profile(user.as_str()).await.unwrap();
            read.push(t.elapsed());
            let t = Instant::now();
            service.recommendations(&user, 20).await.unwrap();
            whole.push(t.elapsed());
        }
        let model = service.model();
        let (mut ranking, mut als) = (Vec::new(), Vec::new());
        for k in 0..300 {
            let profile = service
                .store()
                .profile(&format!("u{}", (k * 37) % users))
                .await
                .unwrap();
            let history: Vec<(u32, f32)> = profile
                .listens
                .iter()
                .filter_map(|l| model.items.index_of(&l.track_id).map(|i| (i, 1.0)))
                .collect();
            let taste = Taste {
                history: history.clone(),
                ..Taste::default()
            };
            let t = Instant::now();
            model.recommend(&taste, 20);
            ranking.push(t.elapsed());
            let t = Instant::now();
            let user = model.als().unwrap().fold_in(&history);
            let fold = t.elapsed();
            let mut scores = Vec::new();
            model.als().unwrap().score_all(&user, &mut scores);
            als.push((fold, t.elapsed() - fold));
        }
        ranking.sort();
        let mut fold: Vec<Duration> = als.iter().map(|a| a.0).collect();
        let mut score: Vec<Duration> = als.iter().map(|a| a.1).collect();
        fold.sort();
        score.sort();
        println!(
            "the model alone, p50: ranking {:.2} ms, of which the ALS fold-in {:.2} ms and scoring every track {:.2} ms",
            percentile(&ranking, 0.5).as_secs_f64() * 1000.0,
            percentile(&fold, 0.5).as_secs_f64() * 1000.0,
            percentile(&score, 0.5).as_secs_f64() * 1000.0
        );
        read.sort();
        whole.sort();
        println!(
            "one at a time, p50: reading the listener's rows {:.2} ms of a whole request {:.2} ms",
            percentile(&read, 0.5).as_secs_f64() * 1000.0,
            percentile(&whole, 0.5).as_secs_f64() * 1000.0
        );
    }
    for (what, radio) in [("recommendations (20)", false), ("radio (50)", true)] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        let per_task = o.requests / o.concurrency.max(1);
        for task in 0..o.concurrency.max(1) {
            let service = service.clone();
            let seed = o.seed + task as u64;
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed);
                let mut times = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let user = beatstream_core::UserId(format!("u{}", rng.gen_range(0..users)));
                    let t = Instant::now();
                    let n = if radio {
                        let seed_track = format!("t{}", rng.gen_range(0..tracks));
                        service.radio(&user, &seed_track, 50).await.unwrap().len()
                    } else {
                        service.recommendations(&user, 20).await.unwrap().len()
                    };
                    assert!(n > 0);
                    times.push(t.elapsed());
                }
                times
            }));
        }
        let mut times = Vec::new();
        for task in tasks {
            times.extend(task.await.unwrap());
        }
        let wall = started.elapsed();
        times.sort();
        println!(
            "{what}: {} requests, {} at once: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            times.len(),
            o.concurrency,
            times.len() as f64 / wall.as_secs_f64(),
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
        );
    }
    println!("RSS after serving: {} MiB", rss_mib());
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn rss_mib() -> u64 {
    beatstream_bench::status_kib("VmRSS") / 1024
}
