//! An image's width and height as its header declares them, read without
//! decoding: what a decoder would allocate for, so a small file that declares
//! a huge canvas (a decompression bomb) is refused before anyone decodes it.

use super::Format;

/// The declared `(width, height)` of an image of `format`, or `None` if the
/// header does not say (a truncated or malformed file).
pub fn dimensions(bytes: &[u8], format: Format) -> Option<(u32, u32)> {
    match format {
        Format::Png => png(bytes),
        Format::Gif => gif(bytes),
        Format::Jpeg => jpeg(bytes),
        Format::Webp => webp(bytes),
        Format::WebmOpus | Format::OggOpus | Format::Mp4Aac => None,
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 2)?;
    Some(u32::from(u16::from_be_bytes([b[0], b[1]])))
}

fn le16(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 2)?;
    Some(u32::from(u16::from_le_bytes([b[0], b[1]])))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], 0]))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// The IHDR chunk comes first: width and height, big-endian, at 16 and 20.
fn png(bytes: &[u8]) -> Option<(u32, u32)> {
    (bytes.get(12..16)? == b"IHDR").then_some(())?;
    Some((be32(bytes, 16)?, be32(bytes, 20)?))
}

/// The logical screen: what a viewer allocates for every frame.
fn gif(bytes: &[u8]) -> Option<(u32, u32)> {
    Some((le16(bytes, 6)?, le16(bytes, 8)?))
}

/// The first start-of-frame segment (any of SOF0–SOF15 but DHT, JPG and DAC),
/// found by walking the segments from the start.
fn jpeg(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            // Stray bytes between segments: decoders skip to the next marker
            // (libjpeg warns "extraneous bytes"), and so does this.
            at += bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
            continue;
        }
        let marker = *bytes.get(at + 1)?;
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD8 => at += 2,
            // Start of scan before any frame header, or end of image.
            0xDA | 0xD9 => return None,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let height = be16(bytes, at + 5)?;
                let width = be16(bytes, at + 7)?;
                return Some((width, height));
            }
            _ => {
                let length = be16(bytes, at + 2)? as usize;
                if length < 2 {
                    return None;
                }
                at += 2 + length;
            }
        }
    }
}

/// The first chunk after `RIFF....WEBP` says the canvas: VP8X (extended),
/// VP8 (lossy key frame) or VP8L (lossless).
fn webp(bytes: &[u8]) -> Option<(u32, u32)> {
    match bytes.get(12..16)? {
        b"VP8X" => Some((le24(bytes, 24)? + 1, le24(bytes, 27)? + 1)),
        b"VP8 " => {
            // A key frame's start code, then 14-bit width and height.
            (bytes.get(23..26)? == [0x9D, 0x01, 0x2A]).then_some(())?;
            Some((le16(bytes, 26)? & 0x3FFF, le16(bytes, 28)? & 0x3FFF))
        }
        b"VP8L" => {
            (*bytes.get(20)? == 0x2F).then_some(())?;
            let b = bytes.get(21..25)?;
            let bits = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_reads_ihdr() {
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
        png.extend_from_slice(&160u32.to_be_bytes());
        png.extend_from_slice(&120u32.to_be_bytes());
        assert_eq!(dimensions(&png, Format::Png), Some((160, 120)));
        assert_eq!(dimensions(&png[..20], Format::Png), None, "truncated");
        assert_eq!(dimensions(b"\x89PNG\r\n\x1a\n", Format::Png), None);
    }

    #[test]
    fn gif_reads_the_logical_screen() {
        assert_eq!(
            dimensions(b"GIF89a\x40\x01\xf0\x00\x00", Format::Gif),
            Some((320, 240))
        );
        assert_eq!(dimensions(b"GIF89a\x40", Format::Gif), None);
    }

    #[test]
    fn jpeg_walks_to_the_frame_header() {
        // SOI, an APP0 segment of 16 bytes, padding, then SOF2 (progressive).
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend_from_slice(&[0u8; 14]);
        jpeg.extend_from_slice(&[0xFF, 0xFF, 0xC2, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80]);
        assert_eq!(dimensions(&jpeg, Format::Jpeg), Some((640, 480)));
        // A DHT (0xC4) is not a frame header.
        let dht = [0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x04, 0x12, 0x34, 0xFF, 0xDA];
        assert_eq!(dimensions(&dht, Format::Jpeg), None);
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF], Format::Jpeg), None);
        // Padding between segments is skipped, as decoders do.
        let padded = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00,
            0x10, 0x00, 0x20,
        ];
        assert_eq!(dimensions(&padded, Format::Jpeg), Some((32, 16)));
        assert_eq!(
            dimensions(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00], Format::Jpeg),
            None,
            "a length below 2 cannot advance"
        );
    }

    #[test]
    fn webp_reads_each_kind_of_first_chunk() {
        let riff = |chunk: &[u8], body: &[u8]| {
            let mut file = b"RIFF\x00\x00\x00\x00WEBP".to_vec();
            file.extend_from_slice(chunk);
            file.extend_from_slice(&[0; 4]);
            file.extend_from_slice(body);
            file
        };
        // VP8X: flags, then width-1 and height-1 in 24 bits each.
        let x = riff(b"VP8X", &[0, 0, 0, 0, 0x3F, 0x01, 0x00, 0xEF, 0x00, 0x00]);
        assert_eq!(dimensions(&x, Format::Webp), Some((320, 240)));
        // VP8: frame tag, start code, 14-bit sizes.
        let lossy = riff(
            b"VP8 ",
            &[0, 0, 0, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00],
        );
        assert_eq!(dimensions(&lossy, Format::Webp), Some((320, 240)));
        // VP8L: signature, then (w-1) | (h-1) << 14.
        let bits: u32 = 319 | (239 << 14);
        let mut body = vec![0x2F];
        body.extend_from_slice(&bits.to_le_bytes());
        let lossless = riff(b"VP8L", &body);
        assert_eq!(dimensions(&lossless, Format::Webp), Some((320, 240)));
        assert_eq!(dimensions(&riff(b"ALPH", &[0; 10]), Format::Webp), None);
    }
}
