//! On-the-fly transcoding with a real ffmpeg process: opus, mp3 or aac at a bitrate cap.
//!
//! The first request streams ffmpeg's output as it comes and keeps a copy; when ffmpeg
//! finishes, the copy goes into blob storage and later requests are served from there like an
//! original file (with ranges). A client that disconnects drops the stream, which kills its
//! ffmpeg. Without ffmpeg the original is streamed, with a header saying why.

use std::process::Stdio;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdout, Command};

use crate::error::CatalogError;
use crate::service::CatalogService;
use crate::stream::{self, Source, Validators};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Opus,
    Mp3,
    Aac,
}

impl Target {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "opus" => Some(Target::Opus),
            "mp3" => Some(Target::Mp3),
            "aac" => Some(Target::Aac),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Target::Opus => "opus",
            Target::Mp3 => "mp3",
            Target::Aac => "aac",
        }
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            Target::Opus => "audio/ogg; codecs=opus",
            Target::Mp3 => "audio/mpeg",
            Target::Aac => "audio/aac",
        }
    }

    fn ffmpeg_args(self, bitrate: u32) -> Vec<String> {
        let (codec, container) = match self {
            Target::Opus => ("libopus", "ogg"),
            Target::Mp3 => ("libmp3lame", "mp3"),
            Target::Aac => ("aac", "adts"),
        };
        let mut args = vec![
            "-c:a".to_string(),
            codec.into(),
            "-b:a".into(),
            format!("{bitrate}k"),
        ];
        if self == Target::Opus {
            // Opus runs at 48 kHz; others keep the source rate where they can.
            args.extend(["-ar".into(), "48000".into()]);
        }
        args.extend(["-f".into(), container.into()]);
        args
    }
}

pub const MIN_BITRATE: u32 = 32;
pub const MAX_BITRATE: u32 = 320;
const DEFAULT_BITRATE: u32 = 192;

/// Parses and bounds the request: a format (default opus) and a bitrate (default 192 kbps,
/// clamped to 32..=320).
pub fn plan(format: Option<&str>, bitrate: Option<u32>) -> Result<(Target, u32), CatalogError> {
    let target = match format {
        None => Target::Opus,
        Some(name) => Target::parse(name).ok_or_else(|| CatalogError::Invalid {
            field: "format",
            reason: format!("`{name}`: use opus, mp3 or aac"),
        })?,
    };
    let bitrate = bitrate
        .unwrap_or(DEFAULT_BITRATE)
        .clamp(MIN_BITRATE, MAX_BITRATE);
    Ok((target, bitrate))
}

pub async fn stream_transcoded(
    catalog: &CatalogService,
    id: &str,
    format: Option<&str>,
    bitrate: Option<u32>,
    offset_ms: u64,
    user_id: &str,
    request: &HeaderMap,
) -> Result<Response, CatalogError> {
    // No bitrate asked: the listener's streaming quality picks it.
    let bitrate = match bitrate {
        Some(bitrate) => Some(bitrate),
        None => catalog
            .store()
            .streaming_quality(user_id)
            .await?
            .as_deref()
            .and_then(crate::preferences::bitrate_for),
    };
    let (target, bitrate) = plan(format, bitrate)?;
    let (source, _, size, mtime) = catalog.source_of(id).await?;
    if let Source::File(path) = &source {
        if tokio::fs::metadata(path).await.is_err() {
            return Err(CatalogError::FileMissing);
        }
    }
    let version = Validators::new(size, mtime, "");
    let key = format!(
        "transcodes/{id}/{}-{bitrate}-{}.{}",
        target.name(),
        version.etag.trim_matches('"'),
        target.name()
    );
    // A stream from an offset is made for this request alone: neither cached nor served from
    // the cache (which holds whole tracks).
    let cached = match offset_ms {
        0 => catalog.blobs().size(&key).await.ok(),
        _ => None,
    };
    if let Some(cached_size) = cached {
        let validators =
            Validators::new(cached_size, mtime, &format!("-{}{bitrate}", target.name()));
        let mut response = stream::respond_blob(
            catalog.blobs().clone(),
            key,
            cached_size,
            target.mime_type(),
            &validators,
            request,
        )
        .await?;
        response
            .headers_mut()
            .insert("x-beatstream-bitrate", HeaderValue::from(bitrate));
        return Ok(response);
    }
    let ffmpeg = catalog.settings().ffmpeg.clone();
    if ffmpeg.is_empty() {
        return original_instead(
            catalog,
            id,
            request,
            "transcoding is turned off (catalog.ffmpeg is empty)",
        )
        .await;
    }
    match spawn_ffmpeg(&ffmpeg, &source, target, bitrate, offset_ms) {
        Ok((child, stdout)) => {
            let cache_as = (offset_ms == 0).then_some(key);
            let stream = transcode_stream(catalog.clone(), child, stdout, cache_as);
            let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(target.mime_type()),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert("x-beatstream-transcode", HeaderValue::from_static("live"));
            headers.insert("x-beatstream-bitrate", HeaderValue::from(bitrate));
            Ok(response)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            original_instead(
                catalog,
                id,
                request,
                "ffmpeg is not installed on the server",
            )
            .await
        }
        Err(e) => Err(CatalogError::Internal(format!("starting ffmpeg: {e}"))),
    }
}

async fn original_instead(
    catalog: &CatalogService,
    id: &str,
    request: &HeaderMap,
    why: &'static str,
) -> Result<Response, CatalogError> {
    tracing::warn!(why, "serving the original instead of a transcode");
    let mut response = catalog.stream_original(id, request).await?;
    response
        .headers_mut()
        .insert("x-beatstream-transcode", HeaderValue::from_static(why));
    Ok(response)
}

/// Runs ffmpeg once on a tenth of a second of silence, so that its program and libraries are
/// in memory before the first listener asks for a transcode: on a cold start, loading them
/// takes several hundred milliseconds, which that listener would otherwise wait through.
/// Logs whether transcoding is available.
pub async fn warm_up(ffmpeg: &str) {
    if ffmpeg.is_empty() {
        tracing::info!("transcoding is turned off (catalog.ffmpeg is empty)");
        return;
    }
    let mut command = Command::new(ffmpeg);
    command
        .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
        .args(["-f", "lavfi", "-i", "anullsrc=d=0.1"])
        .args(Target::Opus.ffmpeg_args(64))
        .arg("pipe:1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let ran = tokio::time::timeout(std::time::Duration::from_secs(30), command.status()).await;
    match ran {
        Ok(Ok(status)) if status.success() => tracing::debug!(ffmpeg, "ffmpeg is ready"),
        Ok(Ok(status)) => {
            tracing::warn!(ffmpeg, %status, "ffmpeg failed a test transcode; transcodes may fail")
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => tracing::warn!(
            ffmpeg,
            "ffmpeg is not installed: originals stream, transcoding is unavailable"
        ),
        Ok(Err(e)) => tracing::warn!(ffmpeg, error = %e, "ffmpeg could not be started"),
        Err(_) => tracing::warn!(ffmpeg, "ffmpeg took over 30 s on a test transcode"),
    }
}

fn spawn_ffmpeg(
    ffmpeg: &str,
    source: &Source,
    target: Target,
    bitrate: u32,
    offset_ms: u64,
) -> std::io::Result<(Child, ChildStdout)> {
    let mut command = Command::new(ffmpeg);
    command.args(["-nostdin", "-hide_banner", "-loglevel", "error"]);
    if offset_ms > 0 {
        // Before the input: a fast seek in the source.
        command.args([
            "-ss",
            &format!("{}.{:03}", offset_ms / 1000, offset_ms % 1000),
        ]);
    }
    match source {
        Source::File(path) => {
            command.arg("-i").arg(path);
            command.stdin(Stdio::null());
        }
        Source::Blob { .. } => {
            command.args(["-i", "pipe:0"]);
            command.stdin(Stdio::piped());
        }
    }
    command.args(["-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1"]);
    command.args(target.ffmpeg_args(bitrate));
    command.arg("pipe:1");
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    if let (Source::Blob { store, key }, Some(mut stdin)) = (source, child.stdin.take()) {
        let (store, key) = (store.clone(), key.clone());
        tokio::spawn(async move {
            if let Ok(bytes) = store.get(&key).await {
                let _ = stdin.write_all(&bytes).await;
            }
        });
    }
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("ffmpeg has no stdout"))?;
    Ok((child, stdout))
}

struct Running {
    catalog: CatalogService,
    child: Child,
    stdout: ChildStdout,
    copy: Vec<u8>,
    /// Where a complete transcode is cached; `None` for one that is not kept.
    key: Option<String>,
}

/// ffmpeg's output as a body stream; on a clean end, the copy is cached.
fn transcode_stream(
    catalog: CatalogService,
    child: Child,
    stdout: ChildStdout,
    key: Option<String>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let state = Some(Running {
        catalog,
        child,
        stdout,
        copy: Vec::new(),
        key,
    });
    futures_util::stream::unfold(state, |state| async move {
        let mut running = state?;
        let mut buffer = vec![0u8; 64 * 1024];
        match running.stdout.read(&mut buffer).await {
            Ok(0) => {
                let succeeded =
                    matches!(running.child.wait().await, Ok(status) if status.success());
                if let (true, false, Some(key)) =
                    (succeeded, running.copy.is_empty(), running.key.as_ref())
                {
                    let bytes = Bytes::from(std::mem::take(&mut running.copy));
                    if let Err(e) = running.catalog.blobs().put(key, bytes).await {
                        tracing::warn!(error = %e, "could not cache a transcode");
                    }
                }
                None
            }
            Ok(n) => {
                buffer.truncate(n);
                if running.key.is_some() {
                    running.copy.extend_from_slice(&buffer);
                }
                Some((Ok(Bytes::from(buffer)), Some(running)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_default_and_bound_the_bitrate() {
        assert_eq!(plan(None, None).unwrap(), (Target::Opus, 192));
        assert_eq!(plan(Some("mp3"), Some(1000)).unwrap(), (Target::Mp3, 320));
        assert_eq!(plan(Some("aac"), Some(8)).unwrap(), (Target::Aac, 32));
        assert!(plan(Some("flac"), None).is_err());
    }
}
