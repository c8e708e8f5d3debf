//! Album covers: the source image (a folder image or a track's embedded picture), resized on
//! demand to the size asked (snapped up to a multiple of 32, at most 2048) and cached as JPEG in
//! blob storage, so each size is made once.

use std::io::Cursor;
use std::path::Path;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::error::CatalogError;

pub const MAX_SIZE: u32 = 2048;
const STEP: u32 = 32;

/// The size actually made for a request: `None` means the original.
pub fn snap_size(requested: Option<u32>) -> Result<Option<u32>, CatalogError> {
    match requested {
        None => Ok(None),
        Some(0) => Err(CatalogError::Invalid {
            field: "size",
            reason: "must be at least 1".into(),
        }),
        Some(n) if n > MAX_SIZE => Err(CatalogError::Invalid {
            field: "size",
            reason: format!("must be at most {MAX_SIZE}"),
        }),
        Some(n) => Ok(Some(n.div_ceil(STEP) * STEP)),
    }
}

/// Where a cover comes from, and a fingerprint that changes when the source does.
pub struct CoverSource {
    pub bytes: Vec<u8>,
    pub fingerprint: String,
}

pub fn load_source(
    folder_image: Option<&Path>,
    track_file: Option<&Path>,
) -> Result<CoverSource, CatalogError> {
    let (bytes, origin) = if let Some(path) = folder_image {
        (
            std::fs::read(path).map_err(|_| CatalogError::CoverNotFound)?,
            path,
        )
    } else if let Some(path) = track_file {
        (
            crate::tags::read_picture(path).ok_or(CatalogError::CoverNotFound)?,
            path,
        )
    } else {
        return Err(CatalogError::CoverNotFound);
    };
    let mtime = std::fs::metadata(origin)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let digest = Sha256::digest(
        format!("{}\u{1f}{mtime}\u{1f}{}", origin.display(), bytes.len()).as_bytes(),
    );
    Ok(CoverSource {
        bytes,
        fingerprint: digest[..8].iter().map(|b| format!("{b:02x}")).collect(),
    })
}

/// The image's MIME type from its first bytes.
pub fn sniff_mime(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => "image/png",
        Ok(image::ImageFormat::WebP) => "image/webp",
        Ok(image::ImageFormat::Gif) => "image/gif",
        Ok(image::ImageFormat::Bmp) => "image/bmp",
        _ => "image/jpeg",
    }
}

/// Scales the image to fit in `size`×`size` (never up) and encodes it as JPEG.
pub fn resize_jpeg(bytes: &[u8], size: u32) -> Result<Bytes, CatalogError> {
    let image = image::load_from_memory(bytes).map_err(|_| CatalogError::CoverNotFound)?;
    let image = if image.width() > size || image.height() > size {
        image.resize(size, size, image::imageops::FilterType::Lanczos3)
    } else {
        image
    };
    let rgb = image.to_rgb8();
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    rgb.write_with_encoder(encoder)
        .map_err(|e| CatalogError::Internal(format!("encoding a cover: {e}")))?;
    Ok(Bytes::from(out.into_inner()))
}

/// The blob key of a cached size.
pub fn cache_key(album_id: &str, size: u32, fingerprint: &str) -> String {
    format!("covers/{album_id}/{size}-{fingerprint}.jpg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_snap_up_to_multiples_of_32_within_bounds() {
        assert_eq!(snap_size(None).unwrap(), None);
        assert_eq!(snap_size(Some(100)).unwrap(), Some(128));
        assert_eq!(snap_size(Some(128)).unwrap(), Some(128));
        assert_eq!(snap_size(Some(1)).unwrap(), Some(32));
        assert!(snap_size(Some(0)).is_err());
        assert!(snap_size(Some(5000)).is_err());
    }

    #[test]
    fn resizes_and_reencodes_as_jpeg() {
        let mut png = Cursor::new(Vec::new());
        image::RgbImage::from_pixel(300, 200, image::Rgb([200, 10, 10]))
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let jpeg = resize_jpeg(png.get_ref(), 64).unwrap();
        assert_eq!(sniff_mime(&jpeg), "image/jpeg");
        let decoded = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 43));
    }

    #[test]
    fn garbage_is_not_a_cover() {
        assert!(matches!(
            resize_jpeg(b"not an image", 64),
            Err(CatalogError::CoverNotFound)
        ));
    }
}
