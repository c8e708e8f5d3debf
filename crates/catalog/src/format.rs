//! Audio formats Beatstream reads: file extensions, MIME types, and lofty's file types.

use lofty::file::FileType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioFormat {
    Mp3,
    Flac,
    Ogg,
    Opus,
    M4a,
    /// Apple Lossless in an MP4 container (`.m4a`): browsers cannot decode it.
    Alac,
    Aac,
    Wav,
    Aiff,
    Ape,
    WavPack,
    Musepack,
}

impl AudioFormat {
    pub const ALL: [AudioFormat; 12] = [
        AudioFormat::Mp3,
        AudioFormat::Flac,
        AudioFormat::Ogg,
        AudioFormat::Opus,
        AudioFormat::M4a,
        AudioFormat::Alac,
        AudioFormat::Aac,
        AudioFormat::Wav,
        AudioFormat::Aiff,
        AudioFormat::Ape,
        AudioFormat::WavPack,
        AudioFormat::Musepack,
    ];

    /// The short name stored and shown to clients (`format` of a track).
    pub fn as_str(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "mp3",
            AudioFormat::Flac => "flac",
            AudioFormat::Ogg => "ogg",
            AudioFormat::Opus => "opus",
            AudioFormat::M4a => "m4a",
            AudioFormat::Alac => "alac",
            AudioFormat::Aac => "aac",
            AudioFormat::Wav => "wav",
            AudioFormat::Aiff => "aiff",
            AudioFormat::Ape => "ape",
            AudioFormat::WavPack => "wv",
            AudioFormat::Musepack => "mpc",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    pub fn mime_type(self) -> &'static str {
        match self {
            AudioFormat::Mp3 => "audio/mpeg",
            AudioFormat::Flac => "audio/flac",
            AudioFormat::Ogg => "audio/ogg",
            AudioFormat::Opus => "audio/ogg; codecs=opus",
            AudioFormat::M4a | AudioFormat::Alac => "audio/mp4",
            AudioFormat::Aac => "audio/aac",
            AudioFormat::Wav => "audio/wav",
            AudioFormat::Aiff => "audio/aiff",
            AudioFormat::Ape => "audio/x-ape",
            AudioFormat::WavPack => "audio/x-wavpack",
            AudioFormat::Musepack => "audio/x-musepack",
        }
    }

    /// The format a file's extension claims, for deciding what to read at all.
    pub fn from_extension(extension: &str) -> Option<Self> {
        match extension.to_ascii_lowercase().as_str() {
            "mp3" | "mp2" => Some(AudioFormat::Mp3),
            "flac" => Some(AudioFormat::Flac),
            "ogg" | "oga" => Some(AudioFormat::Ogg),
            "opus" => Some(AudioFormat::Opus),
            "m4a" | "m4b" | "mp4" | "alac" => Some(AudioFormat::M4a),
            "aac" => Some(AudioFormat::Aac),
            "wav" | "wave" => Some(AudioFormat::Wav),
            "aif" | "aiff" | "aifc" => Some(AudioFormat::Aiff),
            "ape" => Some(AudioFormat::Ape),
            "wv" => Some(AudioFormat::WavPack),
            "mpc" => Some(AudioFormat::Musepack),
            _ => None,
        }
    }

    /// The format the content turned out to be.
    pub fn from_file_type(file_type: FileType) -> Option<Self> {
        Some(match file_type {
            FileType::Aac => AudioFormat::Aac,
            FileType::Aiff => AudioFormat::Aiff,
            FileType::Ape => AudioFormat::Ape,
            FileType::Flac => AudioFormat::Flac,
            FileType::Mpeg => AudioFormat::Mp3,
            FileType::Mp4 => AudioFormat::M4a,
            FileType::Mpc => AudioFormat::Musepack,
            FileType::Opus => AudioFormat::Opus,
            FileType::Vorbis => AudioFormat::Ogg,
            FileType::Wav => AudioFormat::Wav,
            FileType::WavPack => AudioFormat::WavPack,
            _ => return None,
        })
    }
}

/// Whether a path's extension is one of ours.
pub fn is_audio_path(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(AudioFormat::from_extension)
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in AudioFormat::ALL {
            assert_eq!(AudioFormat::parse(format.as_str()), Some(format));
        }
    }

    #[test]
    fn extensions_are_case_insensitive() {
        assert_eq!(AudioFormat::from_extension("FLAC"), Some(AudioFormat::Flac));
        assert_eq!(AudioFormat::from_extension("jpg"), None);
    }
}
