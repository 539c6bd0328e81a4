//! Recognising a file's format from its bytes; the name and type a client
//! gives are never trusted.

/// An accepted file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG image.
    Jpeg,
    /// PNG image.
    Png,
    /// GIF image.
    Gif,
    /// WebP image.
    Webp,
    /// WebM audio with Opus.
    WebmOpus,
    /// Ogg audio with Opus.
    OggOpus,
    /// MP4/M4A audio with AAC.
    Mp4Aac,
}

impl Format {
    /// The MIME type the file is served with.
    pub const fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::Webp => "image/webp",
            Format::WebmOpus => "audio/webm",
            Format::OggOpus => "audio/ogg",
            Format::Mp4Aac => "audio/mp4",
        }
    }

    /// The file name extension.
    pub const fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::Webp => "webp",
            Format::WebmOpus => "webm",
            Format::OggOpus => "ogg",
            Format::Mp4Aac => "m4a",
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// The image format of `bytes`, if it is one the image service accepts.
pub fn image(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(Format::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else {
        None
    }
}

/// The voice format of `bytes`, if it is one the voice service accepts: the
/// container and the codec are both checked (in the file's first 4 KiB).
pub fn voice(bytes: &[u8]) -> Option<Format> {
    let head = &bytes[..bytes.len().min(4096)];
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
        && contains(head, b"webm")
        && contains(head, b"A_OPUS")
    {
        Some(Format::WebmOpus)
    } else if head.starts_with(b"OggS") && contains(head, b"OpusHead") {
        Some(Format::OggOpus)
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" && contains(head, b"mp4a") {
        Some(Format::Mp4Aac)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_signatures() {
        assert_eq!(image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(Format::Jpeg));
        assert_eq!(image(b"\x89PNG\r\n\x1a\n...."), Some(Format::Png));
        assert_eq!(image(b"GIF89a...."), Some(Format::Gif));
        assert_eq!(image(b"RIFF\x10\x00\x00\x00WEBPVP8 "), Some(Format::Webp));
        assert_eq!(image(b"<svg xmlns=...>"), None);
        assert_eq!(image(b"RIFF\x10\x00\x00\x00WAVEfmt "), None);
        assert_eq!(image(b""), None);
    }

    #[test]
    fn voice_needs_the_container_and_the_codec() {
        assert_eq!(
            voice(b"\x1a\x45\xdf\xa3\x9fB\x82\x84webmB\x87...A_OPUS"),
            Some(Format::WebmOpus)
        );
        assert_eq!(
            voice(b"\x1a\x45\xdf\xa3\x9fB\x82\x84webm...V_VP8"),
            None,
            "WebM video without Opus"
        );
        assert_eq!(
            voice(b"OggS\x00\x02........OpusHead"),
            Some(Format::OggOpus)
        );
        assert_eq!(voice(b"OggS\x00\x02........\x01vorbis"), None, "Ogg Vorbis");
        assert_eq!(
            voice(b"\x00\x00\x00\x1cftypM4A ....moov....mp4a"),
            Some(Format::Mp4Aac)
        );
        assert_eq!(voice(b"ID3\x03MP3 data"), None);
    }
}
