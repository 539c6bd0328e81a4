//! How long a voice recording lasts, read from its container without decoding:
//! Ogg's last granule position, WebM's Duration element (or, as Chromium's
//! MediaRecorder writes none, its last block's time), MP4's movie header.

use super::Format;

/// The recording's length in milliseconds, or `None` if the container does
/// not tell (no audio page or block yet, a fragmented MP4 whose movie header
/// says 0, a malformed file).
pub fn duration_ms(bytes: &[u8], format: Format) -> Option<u64> {
    match format {
        Format::OggOpus => ogg_opus(bytes),
        Format::WebmOpus => webm(bytes),
        Format::Mp4Aac => mp4(bytes),
        Format::Jpeg | Format::Png | Format::Gif | Format::Webp => None,
    }
}

/// Opus in Ogg always counts granules at 48 kHz; the first `pre-skip` of
/// them are decoder warm-up, not sound.
fn ogg_opus(bytes: &[u8]) -> Option<u64> {
    let mut at = 0;
    let mut pre_skip = None;
    let mut last_granule = None;
    while let Some(header) = bytes.get(at..at + 27) {
        if &header[..4] != b"OggS" {
            break;
        }
        let granule = u64::from_le_bytes(header[6..14].try_into().ok()?);
        let segments = usize::from(header[26]);
        let lacing = bytes.get(at + 27..at + 27 + segments)?;
        let body_at = at + 27 + segments;
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        if pre_skip.is_none() {
            let body = bytes.get(body_at..body_at + body_len)?;
            if body.starts_with(b"OpusHead") && body.len() >= 12 {
                pre_skip = Some(u64::from(u16::from_le_bytes([body[10], body[11]])));
            }
        }
        // -1: no packet ends on this page.
        if granule != u64::MAX && granule > 0 {
            last_granule = Some(granule);
        }
        at = body_at + body_len;
    }
    let samples = last_granule?.saturating_sub(pre_skip?);
    Some(samples / 48)
}

const EBML_SEGMENT: u32 = 0x1853_8067;
const EBML_INFO: u32 = 0x1549_A966;
const EBML_CLUSTER: u32 = 0x1F43_B675;
const EBML_BLOCK_GROUP: u32 = 0xA0;
const EBML_TIMECODE_SCALE: u32 = 0x2A_D7B1;
const EBML_DURATION: u32 = 0x4489;
const EBML_CLUSTER_TIMECODE: u32 = 0xE7;
const EBML_SIMPLE_BLOCK: u32 = 0xA3;
const EBML_BLOCK: u32 = 0xA1;

/// An EBML variable-length integer at `at`: `(value, length)`. With
/// `keep_marker` the length bits stay (element ids keep them).
fn vint(bytes: &[u8], at: usize, keep_marker: bool) -> Option<(u64, usize)> {
    let first = *bytes.get(at)?;
    let length = first.leading_zeros() as usize + 1;
    if length > 8 {
        return None;
    }
    let mut value = if keep_marker {
        u64::from(first)
    } else {
        u64::from(first) & (0xFF >> length)
    };
    for &b in bytes.get(at + 1..at + length)? {
        value = (value << 8) | u64::from(b);
    }
    Some((value, length))
}

fn uint(data: &[u8]) -> u64 {
    data.iter().fold(0, |v, &b| (v << 8) | u64::from(b))
}

/// Walks the elements in order, stepping into the segment, its info, its
/// clusters and block groups (whose sizes a live recorder often leaves
/// unknown) and over everything else.
fn webm(bytes: &[u8]) -> Option<u64> {
    let mut scale_ns: u64 = 1_000_000;
    let mut duration: Option<f64> = None;
    let mut cluster_time: u64 = 0;
    let mut last_block: Option<u64> = None;
    let mut at = 0;
    while at < bytes.len() {
        let Some((id, id_len)) = vint(bytes, at, true) else {
            break;
        };
        let Some((size, size_len)) = vint(bytes, at + id_len, false) else {
            break;
        };
        let data_at = at + id_len + size_len;
        let unknown_size = size == (1u64 << (7 * size_len)) - 1;
        if matches!(
            id as u32,
            EBML_SEGMENT | EBML_INFO | EBML_CLUSTER | EBML_BLOCK_GROUP
        ) {
            at = data_at;
            continue;
        }
        if unknown_size {
            break;
        }
        let Some(data) = usize::try_from(size)
            .ok()
            .and_then(|size| bytes.get(data_at..data_at.checked_add(size)?))
        else {
            // The last element is cut short: what came before still counts.
            break;
        };
        match id as u32 {
            EBML_TIMECODE_SCALE => scale_ns = uint(data).max(1),
            EBML_DURATION => {
                duration = match data.len() {
                    4 => Some(f64::from(f32::from_be_bytes(data.try_into().ok()?))),
                    8 => Some(f64::from_be_bytes(data.try_into().ok()?)),
                    _ => None,
                }
            }
            EBML_CLUSTER_TIMECODE => cluster_time = uint(data),
            EBML_SIMPLE_BLOCK | EBML_BLOCK => {
                let (_track, track_len) = vint(data, 0, false)?;
                let relative = data.get(track_len..track_len + 2)?;
                let relative = i64::from(i16::from_be_bytes([relative[0], relative[1]]));
                let time = (cluster_time as i64).saturating_add(relative).max(0) as u64;
                last_block = Some(last_block.map_or(time, |t: u64| t.max(time)));
            }
            _ => {}
        }
        at = data_at + data.len();
    }
    let ticks_to_ms = |ticks: f64| (ticks * scale_ns as f64 / 1_000_000.0) as u64;
    match duration {
        Some(ticks) if ticks.is_finite() && ticks > 0.0 => Some(ticks_to_ms(ticks)),
        _ => last_block.map(|ticks| ticks_to_ms(ticks as f64)),
    }
}

/// The movie header (`moov`/`mvhd`): duration over timescale.
fn mp4(bytes: &[u8]) -> Option<u64> {
    let moov = mp4_box(bytes, b"moov")?;
    let mvhd = mp4_box(moov, b"mvhd")?;
    let (timescale, duration) = match *mvhd.first()? {
        0 => (
            u64::from(u32::from_be_bytes(mvhd.get(12..16)?.try_into().ok()?)),
            u64::from(u32::from_be_bytes(mvhd.get(16..20)?.try_into().ok()?)),
        ),
        1 => (
            u64::from(u32::from_be_bytes(mvhd.get(20..24)?.try_into().ok()?)),
            u64::from_be_bytes(mvhd.get(24..32)?.try_into().ok()?),
        ),
        _ => return None,
    };
    // 0 (or all ones): a fragmented file that does not know its length.
    if timescale == 0 || duration == 0 || duration == u64::from(u32::MAX) || duration == u64::MAX {
        return None;
    }
    Some(duration.saturating_mul(1000) / timescale)
}

/// The body of the first box named `name` among the boxes in `bytes`.
fn mp4_box<'a>(bytes: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + 8) {
        let size = u64::from(u32::from_be_bytes(header[..4].try_into().ok()?));
        let (body_at, end) = match size {
            0 => (at + 8, bytes.len()),
            1 => {
                let large = u64::from_be_bytes(bytes.get(at + 8..at + 16)?.try_into().ok()?);
                (at + 16, at.checked_add(usize::try_from(large).ok()?)?)
            }
            _ => (at + 8, at.checked_add(usize::try_from(size).ok()?)?),
        };
        if end < body_at {
            return None;
        }
        if &header[4..8] == name {
            return bytes.get(body_at..end.min(bytes.len()));
        }
        at = end;
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An Ogg page with one packet `body` and `granule`.
    pub(crate) fn ogg_page(granule: u64, body: &[u8]) -> Vec<u8> {
        let mut page = b"OggS\x00\x00".to_vec();
        page.extend_from_slice(&granule.to_le_bytes());
        page.extend_from_slice(&[0; 12]);
        let mut lacing = vec![255u8; body.len() / 255];
        lacing.push((body.len() % 255) as u8);
        page.push(lacing.len() as u8);
        page.extend_from_slice(&lacing);
        page.extend_from_slice(body);
        page
    }

    /// An Ogg Opus file of `ms` milliseconds (pre-skip 312).
    pub(crate) fn ogg_opus_of(ms: u64) -> Vec<u8> {
        let mut head = b"OpusHead\x01\x01".to_vec();
        head.extend_from_slice(&312u16.to_le_bytes());
        head.extend_from_slice(&48_000u32.to_le_bytes());
        head.extend_from_slice(&[0, 0, 0]);
        let mut file = ogg_page(0, &head);
        file.extend(ogg_page(0, b"OpusTags"));
        file.extend(ogg_page(312 + ms * 48 / 2, &[0xFC; 300]));
        file.extend(ogg_page(312 + ms * 48, &[0xFC; 40]));
        file
    }

    fn element(id: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.push(0x80 | data.len() as u8);
        out.extend_from_slice(data);
        out
    }

    /// A WebM file as Chromium's MediaRecorder writes it: segment and
    /// clusters of unknown size, no Duration; blocks every 20 ms up to `ms`.
    pub(crate) fn webm_opus_of(ms: u64, with_duration: Option<f64>) -> Vec<u8> {
        let mut file = element(&[0x1A, 0x45, 0xDF, 0xA3], &element(&[0x42, 0x82], b"webm"));
        file.extend_from_slice(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        let mut info = element(&[0x2A, 0xD7, 0xB1], &[0x0F, 0x42, 0x40]);
        if let Some(d) = with_duration {
            info.extend(element(&[0x44, 0x89], &d.to_be_bytes()));
        }
        file.extend(element(&[0x15, 0x49, 0xA9, 0x66], &info));
        file.extend(element(
            &[0x16, 0x54, 0xAE, 0x6B],
            &element(&[0x86], b"A_OPUS"),
        ));
        let mut t = 0;
        while t <= ms {
            file.extend_from_slice(&[0x1F, 0x43, 0xB6, 0x75, 0xFF]);
            file.extend(element(&[0xE7], &(t as u32).to_be_bytes()));
            let mut rel = 0u64;
            while rel < 1000 && t + rel <= ms {
                let mut block = vec![0x81];
                block.extend_from_slice(&(rel as i16).to_be_bytes());
                block.extend_from_slice(&[0x80, 0xFC, 0xFF]);
                file.extend(element(&[0xA3], &block));
                rel += 20;
            }
            t += 1000;
        }
        file
    }

    /// An M4A file whose movie header says `ms` at a timescale of 44,100.
    pub(crate) fn mp4_of(ms: u64) -> Vec<u8> {
        let mut mvhd = vec![0u8; 12];
        mvhd.extend_from_slice(&44_100u32.to_be_bytes());
        mvhd.extend_from_slice(&((ms * 441 / 10) as u32).to_be_bytes());
        mvhd.extend_from_slice(&[0; 80]);
        let boxed = |name: &[u8], body: &[u8]| {
            let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            b.extend_from_slice(name);
            b.extend_from_slice(body);
            b
        };
        let mut file = boxed(b"ftyp", b"M4A \x00\x00\x00\x00mp4a");
        let mut moov = boxed(b"mvhd", &mvhd);
        moov.extend(boxed(b"trak", b"....mp4a"));
        file.extend(boxed(b"moov", &moov));
        file
    }

    #[test]
    fn ogg_counts_granules_after_the_pre_skip() {
        assert_eq!(
            duration_ms(&ogg_opus_of(3_000), Format::OggOpus),
            Some(3_000)
        );
        // Headers only: nothing recorded yet, so nothing to compare.
        let headers_only = ogg_opus_of(3_000)[..80].to_vec();
        assert_eq!(duration_ms(&headers_only, Format::OggOpus), None);
    }

    #[test]
    fn webm_uses_the_duration_element_or_else_the_last_block() {
        assert_eq!(
            duration_ms(&webm_opus_of(4_500, None), Format::WebmOpus),
            Some(4_500)
        );
        assert_eq!(
            duration_ms(&webm_opus_of(2_000, Some(9_000.0)), Format::WebmOpus),
            Some(9_000)
        );
        let file = webm_opus_of(4_500, None);
        // A file cut in its last block still counts the blocks before.
        let cut = &file[..file.len() - 2];
        assert_eq!(duration_ms(cut, Format::WebmOpus), Some(4_480));
    }

    /// 2.5 s recorded by headless Chromium's MediaRecorder from its fake
    /// microphone (what the web app sends).
    const CHROMIUM_WEBM: &[u8] = include_bytes!("../../tests/fixtures/chromium-2500ms.webm");

    #[test]
    fn a_real_chromium_recording_is_measured_with_or_without_its_duration() {
        assert_eq!(super::super::voice(CHROMIUM_WEBM), Some(Format::WebmOpus));
        let measured = duration_ms(CHROMIUM_WEBM, Format::WebmOpus).expect("a length");
        assert!((2_300..=2_600).contains(&measured), "{measured} ms");
        // Older recorders (and live streams) write no Duration element: the
        // last block's time stands in for it.
        let mut without = CHROMIUM_WEBM.to_vec();
        let at = without
            .windows(3)
            .position(|w| w == [0x44, 0x89, 0x84])
            .expect("a Duration element");
        without[at + 1] = 0x88; // an unknown element id now, skipped
        let from_blocks = duration_ms(&without, Format::WebmOpus).expect("a length");
        assert!(
            measured.abs_diff(from_blocks) <= 100,
            "{measured} vs {from_blocks}"
        );
    }

    #[test]
    fn mp4_reads_the_movie_header() {
        assert_eq!(duration_ms(&mp4_of(5_000), Format::Mp4Aac), Some(5_000));
        assert_eq!(duration_ms(&mp4_of(0), Format::Mp4Aac), None, "fragmented");
    }
}
