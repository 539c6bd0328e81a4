//! Recognising a file's format from its bytes; the name and type a client
//! gives are never trusted. The server and the client both use it, so a file
//! the server would refuse is refused before it is sent.
//!
//! Beyond the format: an image's declared canvas is checked against
//! [`MAX_IMAGE_SIDE`] and [`MAX_IMAGE_PIXELS`] (a small file declaring a huge
//! canvas makes every viewer allocate for it), and a recording's length, when
//! the container says it, against the declared duration.

mod dimensions;
mod duration;
mod kind;

pub use dimensions::dimensions;
pub use duration::duration_ms;
pub use kind::{FileKind, KIND_PREFIX_BYTES, file_kind};

/// The widest or tallest image accepted, in pixels.
pub const MAX_IMAGE_SIDE: u32 = 10_000;
/// The most pixels an image may have (width × height).
pub const MAX_IMAGE_PIXELS: u64 = 50_000_000;
/// How far a recording's length may be from its declared whole seconds, in
/// milliseconds: half a second of rounding plus a second for the recorder's
/// start and stop.
pub const VOICE_DURATION_TOLERANCE_MS: u64 = 1_500;

/// Why a file in an accepted format is still refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The image's header does not say its size.
    #[error(
        "the image's header does not give its width and height; expected a complete JPEG, PNG, GIF or WebP file"
    )]
    NoDimensions,
    /// The image declares a canvas too large to decode safely.
    #[error(
        "the image declares {width} × {height} pixels; expected at most {MAX_IMAGE_SIDE} on each side and {MAX_IMAGE_PIXELS} pixels in all"
    )]
    TooManyPixels {
        /// The declared width.
        width: u32,
        /// The declared height.
        height: u32,
    },
    /// The recording is not as long as the message says.
    #[error(
        "the recording lasts {recorded_ms} ms but the message says {declared} s; expected them within 1.5 s of each other"
    )]
    DurationMismatch {
        /// The declared whole seconds.
        declared: u32,
        /// What the container says.
        recorded_ms: u64,
    },
}

/// Checks an image's declared canvas; returns `(width, height)`.
pub fn check_image(bytes: &[u8], format: Format) -> Result<(u32, u32), Refusal> {
    let (width, height) = dimensions(bytes, format).ok_or(Refusal::NoDimensions)?;
    let pixels = u64::from(width) * u64::from(height);
    if width == 0
        || height == 0
        || width > MAX_IMAGE_SIDE
        || height > MAX_IMAGE_SIDE
        || pixels > MAX_IMAGE_PIXELS
    {
        return Err(Refusal::TooManyPixels { width, height });
    }
    Ok((width, height))
}

/// Checks a recording's length against the `declared` seconds when the
/// container tells it; returns the length found (`None`: the container does
/// not say, which is accepted: a live WebM recorder may have written no
/// block yet, a fragmented MP4 no total).
pub fn check_voice(bytes: &[u8], format: Format, declared: u32) -> Result<Option<u64>, Refusal> {
    let Some(recorded_ms) = duration_ms(bytes, format) else {
        return Ok(None);
    };
    if recorded_ms.abs_diff(u64::from(declared) * 1000) > VOICE_DURATION_TOLERANCE_MS {
        return Err(Refusal::DurationMismatch {
            declared,
            recorded_ms,
        });
    }
    Ok(Some(recorded_ms))
}

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
    fn absurd_canvases_are_refused() {
        let png = |w: u32, h: u32| {
            let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
            png.extend_from_slice(&w.to_be_bytes());
            png.extend_from_slice(&h.to_be_bytes());
            png
        };
        assert_eq!(check_image(&png(160, 120), Format::Png), Ok((160, 120)));
        assert_eq!(
            check_image(&png(10_000, 5_000), Format::Png),
            Ok((10_000, 5_000))
        );
        for (w, h) in [
            (10_001, 1),
            (1, 10_001),
            (8_000, 8_000),
            (0, 5),
            (65_535, 65_535),
        ] {
            assert_eq!(
                check_image(&png(w, h), Format::Png),
                Err(Refusal::TooManyPixels {
                    width: w,
                    height: h
                })
            );
        }
        assert_eq!(
            check_image(b"\x89PNG\r\n\x1a\n", Format::Png),
            Err(Refusal::NoDimensions)
        );
        let refusal = check_image(&png(50_000, 50_000), Format::Png).unwrap_err();
        assert!(refusal.to_string().contains("50000 × 50000"), "{refusal}");
    }

    #[test]
    fn a_recording_must_last_about_what_it_says() {
        let ogg = duration::tests::ogg_opus_of(3_400);
        assert_eq!(check_voice(&ogg, Format::OggOpus, 3), Ok(Some(3_400)));
        assert_eq!(check_voice(&ogg, Format::OggOpus, 4), Ok(Some(3_400)));
        assert_eq!(
            check_voice(&ogg, Format::OggOpus, 5),
            Err(Refusal::DurationMismatch {
                declared: 5,
                recorded_ms: 3_400
            })
        );
        let long = duration::tests::webm_opus_of(30_000, None);
        assert!(
            check_voice(&long, Format::WebmOpus, 3).is_err(),
            "30 s sent as 3"
        );
        assert_eq!(check_voice(&long, Format::WebmOpus, 30), Ok(Some(30_000)));
        let unknown = duration::tests::mp4_of(0);
        assert_eq!(check_voice(&unknown, Format::Mp4Aac, 7), Ok(None));
        assert_eq!(
            check_voice(&duration::tests::mp4_of(7_200), Format::Mp4Aac, 7),
            Ok(Some(7_200))
        );
    }

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
