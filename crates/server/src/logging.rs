//! Structured logs with `tracing`: human-readable text by default, JSON on request.
//! `RUST_LOG`, when set, overrides `log.level`.
//!
//! Lines go to standard output in batches: a busy server with the access log on
//! (crates/gateway/src/access_log.rs) logs a line per request, and writing
//! each one on its own (a system call, with the worker threads queueing on standard output's
//! lock) cost a tenth of a small request's time. A line waits at most [`FLUSH_EVERY`]; warnings
//! and errors, and everything before the process ends ([`LogGuard`]), are written at once.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use beatstream_config::LogConfig;
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// How long a line may wait in memory.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Lines waiting past this many bytes are written by the thread that logs the next one.
const FLUSH_AT: usize = 64 * 1024;

/// Writes the lines still waiting when dropped: hold it until the process ends.
#[must_use = "lines still waiting are written when the guard is dropped"]
pub struct LogGuard(Option<Arc<Lines>>);

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(lines) = &self.0 {
            lines.write_out();
        }
    }
}

pub fn init(config: &LogConfig) -> LogGuard {
    // lofty warns about every file whose duration it estimates: noise in a big library.
    let level = if config.level.contains("lofty") {
        config.level.clone()
    } else {
        format!("{},lofty=error", config.level)
    };
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let lines = Arc::new(Lines::new(Box::new(std::io::stdout())));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(BatchedStdout(lines.clone()));
    let result = if config.format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    if let Err(e) = result {
        eprintln!("beatstream: logging was already initialised: {e}");
        return LogGuard(None);
    }
    let flusher = lines.clone();
    let started = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || loop {
            std::thread::sleep(FLUSH_EVERY);
            flusher.write_out();
        });
    if let Err(e) = started {
        eprintln!(
            "beatstream: cannot start the log writer thread ({e}); lines are written at once"
        );
        lines.write_at_once();
    }
    LogGuard(Some(lines))
}

/// Lines formatted but not yet written, and where they go with a spare buffer.
struct Lines {
    waiting: Mutex<Vec<u8>>,
    out: Mutex<Out>,
    /// Set when no thread writes the lines out: each is written as it comes.
    at_once: std::sync::atomic::AtomicBool,
}

struct Out {
    target: Box<dyn Write + Send>,
    /// The buffer swapped in for the one being written, so neither is allocated anew.
    spare: Vec<u8>,
}

impl Lines {
    fn new(target: Box<dyn Write + Send>) -> Self {
        Lines {
            waiting: Mutex::new(Vec::new()),
            out: Mutex::new(Out {
                target,
                spare: Vec::new(),
            }),
            at_once: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn add(&self, line: &[u8], urgent: bool) {
        let waiting = {
            let mut waiting = lock(&self.waiting);
            waiting.extend_from_slice(line);
            waiting.len()
        };
        if urgent || waiting >= FLUSH_AT || self.at_once.load(std::sync::atomic::Ordering::Relaxed)
        {
            self.write_out();
        }
    }

    /// Writes every waiting line, in order: whoever writes holds `out` from taking the lines
    /// until they are written, so two batches never overtake each other.
    fn write_out(&self) {
        let mut out = lock(&self.out);
        let Out { target, spare } = &mut *out;
        std::mem::swap(&mut *lock(&self.waiting), spare);
        if spare.is_empty() {
            return;
        }
        // Nowhere to report a failure to write the log: the lines are dropped.
        let _ = target.write_all(spare).and_then(|()| target.flush());
        spare.clear();
    }

    fn write_at_once(&self) {
        self.at_once
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.write_out();
    }
}

/// A lock that a panic elsewhere does not poison for the log.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fmt layer's writer: one per line.
struct BatchedStdout(Arc<Lines>);

impl<'a> MakeWriter<'a> for BatchedStdout {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            lines: &self.0,
            urgent: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineWriter {
            lines: &self.0,
            // Levels order by verbosity: WARN and ERROR are the least verbose.
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

struct LineWriter<'a> {
    lines: &'a Lines,
    urgent: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lines.add(buf, self.urgent);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target that records what reached it.
    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<Vec<u8>>>);

    impl Write for Recorded {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn recorded() -> (Lines, Recorded) {
        let target = Recorded::default();
        (Lines::new(Box::new(target.clone())), target)
    }

    #[test]
    fn a_warning_writes_the_lines_before_it_in_order() {
        let (lines, target) = recorded();
        lines.add(b"one\n", false);
        lines.add(b"two\n", false);
        assert!(lock(&target.0).is_empty(), "info lines wait");
        lines.add(b"warning\n", true);
        assert_eq!(&*lock(&target.0), b"one\ntwo\nwarning\n");
        lines.add(b"three\n", false);
        lines.write_out();
        assert_eq!(&*lock(&target.0), b"one\ntwo\nwarning\nthree\n");
    }

    #[test]
    fn a_full_buffer_is_written_by_the_line_that_fills_it() {
        let (lines, target) = recorded();
        let line = [b'x'; 1000];
        let fit = FLUSH_AT / line.len();
        for _ in 0..fit {
            lines.add(&line, false);
        }
        assert!(lock(&target.0).is_empty());
        lines.add(&line, false);
        assert_eq!(lock(&target.0).len(), (fit + 1) * line.len());
        assert!(lock(&lines.waiting).is_empty());
    }

    #[test]
    fn lines_from_many_threads_all_arrive_whole() {
        let (lines, target) = recorded();
        let lines = Arc::new(lines);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let lines = lines.clone();
                std::thread::spawn(move || {
                    for n in 0..5000 {
                        lines.add(format!("thread {t} line {n}\n").as_bytes(), n % 997 == 0);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        lines.write_out();
        let written = String::from_utf8(lock(&target.0).clone()).unwrap();
        assert_eq!(written.lines().count(), 4 * 5000);
        for t in 0..4 {
            let numbers: Vec<usize> = written
                .lines()
                .filter_map(|l| l.strip_prefix(&format!("thread {t} line ")))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(
                numbers,
                (0..5000).collect::<Vec<_>>(),
                "thread {t} in order"
            );
        }
    }
}
