//! Streaming bytes over HTTP: `Range` (`bytes=a-b`, `a-`, `-n`), `ETag` and `Last-Modified`
//! with `If-None-Match`, `If-Modified-Since` and `If-Range`. Answers up to 1 MiB are read at once;
//! larger ones stream in chunks (32 KiB copied from the page cache, 256 KiB read from disk), so
//! a file is never held in memory whole.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use beatstream_core::ApiError;
use futures_util::TryStreamExt;

use crate::error::CatalogError;

/// Chunks read on a blocking thread (bytes not in the page cache): large, so a file streamed
/// from disk costs few trips to another thread.
const CHUNK: usize = 256 * 1024;
/// Chunks copied from the page cache on the async thread: small enough to stay in the CPU's
/// cache between the copy from the file and the copy into the socket (measured: 32 KiB streams
/// a cached 9 MB file 10 to 25% faster than 64 or 256 KiB on 2 cores).
const CACHED_CHUNK: usize = 32 * 1024;
/// Responses up to this size are read in one go, with the open, on one blocking thread.
const SMALL: u64 = 1024 * 1024;

/// The part of a resource a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    Full,
    /// Inclusive byte positions.
    Partial {
        start: u64,
        end: u64,
    },
    Unsatisfiable,
}

/// Parses a `Range` header against a resource of `size` bytes. Forms the server does not
/// serve partially (other units, several ranges, malformed) give the whole resource, as RFC
/// 9110 allows.
pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        (true, true) => RangeRequest::Full,
        (true, false) => match parse(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if size == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Partial {
                start: size - n.min(size),
                end: size - 1,
            },
            None => RangeRequest::Full,
        },
        (false, _) => {
            let Some(start) = parse(first) else {
                return RangeRequest::Full;
            };
            let end = if last.is_empty() {
                Some(u64::MAX)
            } else {
                parse(last)
            };
            match end {
                None => RangeRequest::Full,
                Some(end) if end < start => RangeRequest::Full,
                Some(_) if start >= size => RangeRequest::Unsatisfiable,
                Some(end) => RangeRequest::Partial {
                    start,
                    end: end.min(size - 1),
                },
            }
        }
    }
}

/// Validators of one version of a resource.
#[derive(Debug, Clone)]
pub struct Validators {
    pub etag: String,
    pub last_modified: Option<std::time::SystemTime>,
}

impl Validators {
    pub fn new(size: u64, mtime_ms: i64, salt: &str) -> Self {
        Validators {
            etag: format!("\"{size:x}-{mtime_ms:x}{salt}\""),
            last_modified: u64::try_from(mtime_ms)
                .ok()
                .map(|ms| UNIX_EPOCH + Duration::from_millis(ms - ms % 1000)),
        }
    }

    fn not_modified(&self, headers: &HeaderMap) -> bool {
        if let Some(inm) = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
        {
            return inm
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == self.etag);
        }
        match (
            headers
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|v| v.to_str().ok()),
            self.last_modified,
        ) {
            (Some(since), Some(modified)) => {
                httpdate::parse_http_date(since).is_ok_and(|since| modified <= since)
            }
            _ => false,
        }
    }

    /// `If-Range`: the range applies only to the version the client already has part of.
    fn range_applies(&self, headers: &HeaderMap) -> bool {
        match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
            None => true,
            Some(value) if value.starts_with('"') => value == self.etag,
            Some(value) => match (httpdate::parse_http_date(value), self.last_modified) {
                (Ok(date), Some(modified)) => modified <= date,
                _ => false,
            },
        }
    }

    /// What `request` asks of this version of a resource of `size` bytes.
    fn asked(&self, size: u64, request: &HeaderMap) -> Asked {
        if self.not_modified(request) {
            return Asked::NotModified;
        }
        let range_header = request.get(header::RANGE).and_then(|v| v.to_str().ok());
        let range = if self.range_applies(request) {
            parse_range(range_header, size)
        } else {
            RangeRequest::Full
        };
        match range {
            RangeRequest::Full => Asked::Bytes {
                status: StatusCode::OK,
                start: 0,
                end: size.saturating_sub(1),
            },
            RangeRequest::Partial { start, end } => Asked::Bytes {
                status: StatusCode::PARTIAL_CONTENT,
                start,
                end,
            },
            RangeRequest::Unsatisfiable => Asked::Unsatisfiable,
        }
    }

    fn apply(&self, headers: &mut HeaderMap) {
        if let Ok(value) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, value);
        }
        if let Some(modified) = self.last_modified {
            if let Ok(value) = HeaderValue::from_str(&httpdate::fmt_http_date(modified)) {
                headers.insert(header::LAST_MODIFIED, value);
            }
        }
    }
}

/// What a request asks of one version of a resource.
enum Asked {
    NotModified,
    Unsatisfiable,
    /// Inclusive positions; the whole resource for a 200.
    Bytes {
        status: StatusCode,
        start: u64,
        end: u64,
    },
}

/// Where the bytes come from.
pub enum Source {
    File(std::path::PathBuf),
    Blob {
        store: beatstream_storage::BlobStore,
        key: String,
    },
}

/// Answers a GET for a blob of `size` bytes, honouring ranges and validators. (Local files go
/// through [`respond_file`], which opens and reads them in one blocking call.)
pub async fn respond_blob(
    store: beatstream_storage::BlobStore,
    key: String,
    size: u64,
    content_type: &str,
    validators: &Validators,
    request: &HeaderMap,
) -> Result<Response, CatalogError> {
    let mut headers = HeaderMap::new();
    validators.apply(&mut headers);
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let (status, start, end) = match validators.asked(size, request) {
        Asked::NotModified => return Ok((StatusCode::NOT_MODIFIED, headers).into_response()),
        Asked::Unsatisfiable => return Ok(unsatisfiable(size)),
        Asked::Bytes { status, start, end } => (status, start, end),
    };
    let length = if size == 0 { 0 } else { end - start + 1 };
    let body = if length == 0 {
        Body::empty()
    } else {
        let stream = store.get_range_stream(&key, start, start + length).await?;
        Body::from_stream(stream.map_err(std::io::Error::other))
    };
    Ok(content(
        status,
        (start, end, size),
        content_type,
        headers,
        body,
    ))
}

/// What one trip to a blocking thread found out about a file request.
enum FileAnswer {
    NotModified(Validators),
    Unsatisfiable(u64),
    Bytes {
        status: StatusCode,
        start: u64,
        end: u64,
        size: u64,
        validators: Validators,
        bytes: bytes::Bytes,
    },
    Stream {
        status: StatusCode,
        start: u64,
        end: u64,
        size: u64,
        validators: Validators,
        file: std::fs::File,
    },
}

/// Files served recently, whose directory entries and pages the kernel most likely still has,
/// and the last few of them held open for a moment.
pub struct RecentFiles {
    served: quick_cache::sync::Cache<std::path::PathBuf, ()>,
    open: quick_cache::sync::Cache<std::path::PathBuf, std::sync::Arc<OpenFile>>,
}

/// How many files served recently are remembered...
const RECENT_FILES: usize = 4096;
/// ...how many of them are held open...
const OPEN_FILES: usize = 64;
/// ...and for how long one open file and its metadata answer requests. A file replaced within
/// that time is served as it was (consistently: its bytes with its own validators); a file
/// that shrank fails the read and is opened again. Saves the path lookup, open and stat of
/// every range request of a file being played (measured: a tenth of a 64 KiB range's time).
const KEEP_OPEN: std::time::Duration = std::time::Duration::from_secs(1);

/// A file opened for answers from memory, with its metadata then.
struct OpenFile {
    file: std::fs::File,
    metadata: std::fs::Metadata,
    opened: std::time::Instant,
}

impl Default for RecentFiles {
    fn default() -> Self {
        RecentFiles {
            served: quick_cache::sync::Cache::new(RECENT_FILES),
            open: quick_cache::sync::Cache::new(OPEN_FILES),
        }
    }
}

impl RecentFiles {
    /// `path` open, with its metadata, if it was served recently; opened again when the
    /// handle held is older than [`KEEP_OPEN`]. `None` for a file not served recently (its
    /// pages are likely not in memory) or one that cannot be opened.
    fn open(&self, path: &std::path::Path) -> Option<std::sync::Arc<OpenFile>> {
        if let Some(open) = self.open.get(path) {
            if open.opened.elapsed() < KEEP_OPEN {
                return Some(open);
            }
        }
        self.served.get(path)?;
        let file = std::fs::File::open(path).ok()?;
        let metadata = file.metadata().ok()?;
        let open = std::sync::Arc::new(OpenFile {
            file,
            metadata,
            opened: std::time::Instant::now(),
        });
        self.open.insert(path.to_path_buf(), open.clone());
        Some(open)
    }
}

/// What a request asks of one version of a file: an answer without bytes (304, 416), or a
/// range (the whole file for a 200).
enum Plan {
    Answer(FileAnswer),
    Range {
        status: StatusCode,
        start: u64,
        end: u64,
        size: u64,
        validators: Validators,
    },
}

fn plan(metadata: &std::fs::Metadata, salt: &str, request: &HeaderMap) -> Plan {
    let size = metadata.len();
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let validators = Validators::new(size, mtime, salt);
    let (status, start, end) = match validators.asked(size, request) {
        Asked::NotModified => return Plan::Answer(FileAnswer::NotModified(validators)),
        Asked::Unsatisfiable => return Plan::Answer(FileAnswer::Unsatisfiable(size)),
        Asked::Bytes { status, start, end } => (status, start, end),
    };
    Plan::Range {
        status,
        start,
        end,
        size,
        validators,
    }
}

/// Answers up to this size may come straight from the page cache on the async thread.
const FAST: u64 = 256 * 1024;

/// Answers a small request for a recently served file without a trip to a blocking thread:
/// open and stat (or a handle held open, see [`RecentFiles`]), and a read with `RWF_NOWAIT`,
/// which fails rather than wait for the disk. `None` sends the request the blocking way
/// (anything not in memory, any error, larger answers; every answer with bytes off Linux, where
/// [`read_cached`] has no such read).
fn answer_from_memory(
    path: &std::path::Path,
    salt: &str,
    request: &HeaderMap,
    recent: &RecentFiles,
) -> Option<FileAnswer> {
    let open = recent.open(path)?;
    let (file, metadata) = (&open.file, &open.metadata);
    match plan(metadata, salt, request) {
        Plan::Answer(answer) => Some(answer),
        Plan::Range {
            status,
            start,
            end,
            size,
            validators,
        } => {
            let length = if size == 0 { 0 } else { end - start + 1 };
            if length > FAST {
                return None;
            }
            let bytes = if length == 0 {
                bytes::Bytes::new()
            } else {
                read_cached(file, start, length as usize).filter(|b| b.len() as u64 == length)?
            };
            Some(FileAnswer::Bytes {
                status,
                start,
                end,
                size,
                validators,
                bytes,
            })
        }
    }
}

/// Answers a GET for a local file. A small answer from a file served recently is read from
/// the page cache on this thread when it is there; otherwise open, validators, range and (for
/// answers up to 1 MiB) the bytes come from one blocking call, and larger answers then stream
/// (see [`file_chunks`]).
pub async fn respond_file(
    path: std::path::PathBuf,
    content_type: &str,
    salt: &str,
    request: &HeaderMap,
    recent: &RecentFiles,
) -> Result<Response, CatalogError> {
    let answer = match answer_from_memory(&path, salt, request, recent) {
        Some(answer) => answer,
        None => {
            let answer = read_blocking(path.clone(), salt, request).await?;
            recent.served.insert(path, ());
            answer
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let (status, start, end, size, body) = match answer {
        FileAnswer::NotModified(validators) => {
            validators.apply(&mut headers);
            return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
        }
        FileAnswer::Unsatisfiable(size) => return Ok(unsatisfiable(size)),
        FileAnswer::Bytes {
            status,
            start,
            end,
            size,
            validators,
            bytes,
        } => {
            validators.apply(&mut headers);
            (status, start, end, size, Body::from(bytes))
        }
        FileAnswer::Stream {
            status,
            start,
            end,
            size,
            validators,
            file,
        } => {
            validators.apply(&mut headers);
            let length = end - start + 1;
            (
                status,
                start,
                end,
                size,
                Body::from_stream(file_chunks(file, start, length)),
            )
        }
    };
    Ok(content(
        status,
        (start, end, size),
        content_type,
        headers,
        body,
    ))
}

/// The bytes `start..start + length` of `file`, in chunks of up to 256 KiB. A chunk the page
/// cache holds is copied on the async thread (a read with `RWF_NOWAIT`, which fails rather than
/// wait for the disk); any other is read on a blocking thread. A file served often is thus
/// streamed without a trip to another thread per chunk, and the disk never stalls the async
/// threads. A file that shrank under the reader ends the stream with an error, so the client
/// sees a cut answer rather than a short one.
fn file_chunks(
    file: std::fs::File,
    start: u64,
    length: u64,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send {
    let file = std::sync::Arc::new(file);
    futures_util::stream::try_unfold((file, start, length), |(file, at, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let chunk = match read_cached(&file, at, left.min(CACHED_CHUNK as u64) as usize) {
            Some(chunk) => chunk,
            None => {
                let reader = file.clone();
                let want = left.min(CHUNK as u64) as usize;
                tokio::task::spawn_blocking(move || read_chunk(&reader, at, want))
                    .await
                    .map_err(std::io::Error::other)??
            }
        };
        let read = chunk.len() as u64;
        Ok(Some((chunk, (file, at + read, left - read))))
    })
}

/// Up to `want` bytes at `at` if the page cache holds them; `None` otherwise (or at an error,
/// which the blocking read then reports).
#[cfg(target_os = "linux")]
fn read_cached(file: &std::fs::File, at: u64, want: usize) -> Option<bytes::Bytes> {
    use rustix::io::{preadv2, ReadWriteFlags};
    let mut buffer = crate::buffers::take(want);
    let mut buffers = [std::io::IoSliceMut::new(&mut buffer[..want])];
    match preadv2(file, &mut buffers, at, ReadWriteFlags::NOWAIT) {
        Ok(read) if read > 0 => Some(crate::buffers::into_bytes(buffer, read)),
        _ => {
            crate::buffers::give_back(buffer);
            None
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn read_cached(_: &std::fs::File, _: u64, _: usize) -> Option<bytes::Bytes> {
    None
}

/// `want` bytes at `at`, or as many as there are before the end if that is at least one.
fn read_chunk(file: &std::fs::File, at: u64, want: usize) -> std::io::Result<bytes::Bytes> {
    let buffer = crate::blocks::read_up_to(file, at, want)?;
    if buffer.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file ended before its announced length",
        ));
    }
    Ok(buffer.into())
}

/// Open, validators, range and (for answers up to 1 MiB) the bytes, in one blocking call.
async fn read_blocking(
    path: std::path::PathBuf,
    salt: &str,
    request: &HeaderMap,
) -> Result<FileAnswer, CatalogError> {
    let request = request.clone();
    let salt = salt.to_string();
    tokio::task::spawn_blocking(move || -> Result<FileAnswer, CatalogError> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CatalogError::FileMissing,
            _ => CatalogError::Internal(format!("opening a track file: {e}")),
        })?;
        let metadata = file
            .metadata()
            .map_err(|e| CatalogError::Internal(format!("reading a track file: {e}")))?;
        let (status, start, end, size, validators) = match plan(&metadata, &salt, &request) {
            Plan::Answer(answer) => return Ok(answer),
            Plan::Range {
                status,
                start,
                end,
                size,
                validators,
            } => (status, start, end, size, validators),
        };
        let length = if size == 0 { 0 } else { end - start + 1 };
        let io = |e: std::io::Error| CatalogError::Internal(format!("reading a track file: {e}"));
        if length <= SMALL {
            let mut bytes = vec![0u8; length as usize];
            file.read_exact_at(&mut bytes, start).map_err(io)?;
            return Ok(FileAnswer::Bytes {
                status,
                start,
                end,
                size,
                validators,
                bytes: bytes.into(),
            });
        }
        Ok(FileAnswer::Stream {
            status,
            start,
            end,
            size,
            validators,
            file,
        })
    })
    .await
    .map_err(|e| CatalogError::Internal(format!("file task: {e}")))?
}

/// 416 with the resource's size, in the house error format.
fn unsatisfiable(size: u64) -> Response {
    let mut response = ApiError::from(CatalogError::RangeNotSatisfiable { size }).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{size}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
        .headers_mut()
        .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    response
}

/// A 200 or 206 with its length, type and range headers.
fn content(
    status: StatusCode,
    (start, end, size): (u64, u64, u64),
    content_type: &str,
    mut headers: HeaderMap,
    body: Body,
) -> Response {
    let length = if size == 0 { 0 } else { end - start + 1 };
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
            headers.insert(header::CONTENT_RANGE, value);
        }
    }
    (status, headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    async fn collect(file: std::fs::File, start: u64, length: u64) -> (Vec<u8>, Vec<usize>, bool) {
        let mut chunks = std::pin::pin!(file_chunks(file, start, length));
        let (mut bytes, mut sizes) = (Vec::new(), Vec::new());
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(chunk) => {
                    sizes.push(chunk.len());
                    bytes.extend_from_slice(&chunk);
                }
                Err(_) => return (bytes, sizes, true),
            }
        }
        (bytes, sizes, false)
    }

    #[tokio::test]
    async fn large_answers_stream_in_chunks_from_any_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let content: Vec<u8> = (0..3 * CHUNK + 123).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let open = || std::fs::File::open(&path).unwrap();

        let (bytes, sizes, failed) = collect(open(), 0, content.len() as u64).await;
        assert!(!failed);
        assert_eq!(bytes, content);
        assert!(sizes.iter().all(|&size| size <= CHUNK), "{sizes:?}");

        let (bytes, _, failed) = collect(open(), 1000, 2 * CHUNK as u64 + 5).await;
        assert!(!failed);
        assert_eq!(bytes, &content[1000..1000 + 2 * CHUNK + 5]);

        // A file cut short under the reader: the bytes it still has, then an error.
        let (bytes, _, failed) = collect(open(), 0, content.len() as u64 + 10).await;
        assert!(
            failed,
            "the stream ends with an error when the file is shorter than announced"
        );
        assert_eq!(bytes, content);
    }

    async fn get_range(path: &std::path::Path, range: &str, recent: &RecentFiles) -> Response {
        let mut request = HeaderMap::new();
        request.insert(header::RANGE, HeaderValue::from_str(range).unwrap());
        respond_file(path.to_path_buf(), "audio/mpeg", "", &request, recent)
            .await
            .unwrap()
    }

    async fn body_of(response: Response) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn a_file_held_open_never_answers_past_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.mp3");
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let recent = RecentFiles::default();

        // The first request reads the blocking way; the next ones from the handle held open.
        for _ in 0..3 {
            let response = get_range(&path, "bytes=150000-150999", &recent).await;
            assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
            assert_eq!(body_of(response).await, &content[150_000..151_000]);
        }
        assert!(recent.open.get(&path).is_some(), "the file is held open");

        // Cut short in place while held open: the range past the new end is refused, as from
        // a fresh open, rather than answered short from the old size.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(100_000)
            .unwrap();
        let response = get_range(&path, "bytes=150000-150999", &recent).await;
        assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        let response = get_range(&path, "bytes=0-999", &recent).await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(body_of(response).await, &content[..1000]);

        // Removed: once the handle is older than KEEP_OPEN, the file is looked up again.
        std::fs::remove_file(&path).unwrap();
        tokio::time::sleep(KEEP_OPEN + std::time::Duration::from_millis(50)).await;
        let answer = respond_file(path.clone(), "audio/mpeg", "", &HeaderMap::new(), &recent).await;
        assert!(
            answer.is_err(),
            "a removed file is not served after KEEP_OPEN"
        );
    }

    #[test]
    fn range_forms() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(
            parse_range(Some("bytes=0-9"), 100),
            Partial { start: 0, end: 9 }
        );
        assert_eq!(
            parse_range(Some("bytes=90-"), 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-10"), 100),
            Partial { start: 90, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=-500"), 100),
            Partial { start: 0, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=50-5000"), 100),
            Partial { start: 50, end: 99 }
        );
        assert_eq!(
            parse_range(Some("bytes=99-99"), 100),
            Partial { start: 99, end: 99 }
        );
    }

    #[test]
    fn unsatisfiable_and_ignored_ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=200-300"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=9-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=0-1,5-9"), 100), Full);
        assert_eq!(parse_range(Some("items=0-1"), 100), Full);
        assert_eq!(parse_range(Some("bytes=x-y"), 100), Full);
        assert_eq!(parse_range(Some("bytes=-"), 100), Full);
    }

    #[test]
    fn validators_answer_conditional_requests() {
        let v = Validators::new(100, 1_700_000_000_000, "");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&v.etag).unwrap(),
        );
        assert!(v.not_modified(&headers));
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!v.not_modified(&headers));
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_RANGE, HeaderValue::from_static("\"stale\""));
        assert!(!v.range_applies(&headers));
    }
}
