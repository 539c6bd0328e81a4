//! The kind of a file of any type (PROTOCOL §15.6), recognised from its first
//! bytes for the record and for choosing an icon; files are stored and served
//! as they are, so an unknown kind is no refusal.

/// A file's kind, as far as its first bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A PDF document.
    Pdf,
    /// A ZIP archive, which includes Office Open XML (docx, xlsx, pptx).
    Zip,
    /// An old Office document (doc, xls, ppt: the OLE compound format).
    Ole,
    /// A gzip stream.
    Gzip,
    /// A 7-Zip archive.
    SevenZip,
    /// A RAR archive.
    Rar,
    /// A PNG image.
    Png,
    /// A JPEG image.
    Jpeg,
    /// A GIF image.
    Gif,
    /// A WebP image.
    Webp,
    /// An MP4 (or M4A, MOV) container.
    Mp4,
    /// A WebM or Matroska container.
    Webm,
    /// An Ogg container.
    Ogg,
    /// UTF-8 text without control characters (other than tabs and line ends).
    Text,
    /// Anything else.
    Other,
}

/// How many bytes of a file [`file_kind`] looks at.
pub const KIND_PREFIX_BYTES: usize = 4096;

impl FileKind {
    /// The MIME type recorded for the kind.
    pub const fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Zip => "application/zip",
            FileKind::Ole => "application/x-ole-storage",
            FileKind::Gzip => "application/gzip",
            FileKind::SevenZip => "application/x-7z-compressed",
            FileKind::Rar => "application/vnd.rar",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Mp4 => "video/mp4",
            FileKind::Webm => "video/webm",
            FileKind::Ogg => "application/ogg",
            FileKind::Text => "text/plain; charset=utf-8",
            FileKind::Other => "application/octet-stream",
        }
    }

    /// The extension of the stored file's name.
    pub const fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Zip => "zip",
            FileKind::Ole => "ole",
            FileKind::Gzip => "gz",
            FileKind::SevenZip => "7z",
            FileKind::Rar => "rar",
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Gif => "gif",
            FileKind::Webp => "webp",
            FileKind::Mp4 => "mp4",
            FileKind::Webm => "webm",
            FileKind::Ogg => "ogg",
            FileKind::Text => "txt",
            FileKind::Other => "bin",
        }
    }

    /// Every extension a stored file of any kind may have.
    pub const EXTENSIONS: [&'static str; 15] = [
        "pdf", "zip", "ole", "gz", "7z", "rar", "png", "jpg", "gif", "webp", "mp4", "webm", "ogg",
        "txt", "bin",
    ];
}

/// Recognises a file's kind from its first bytes (up to [`KIND_PREFIX_BYTES`]).
pub fn file_kind(head: &[u8]) -> FileKind {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        FileKind::Pdf
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        FileKind::Zip
    } else if starts(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        FileKind::Ole
    } else if starts(b"\x1F\x8B") {
        FileKind::Gzip
    } else if starts(b"7z\xBC\xAF\x27\x1C") {
        FileKind::SevenZip
    } else if starts(b"Rar!\x1A\x07") {
        FileKind::Rar
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        FileKind::Png
    } else if starts(b"\xFF\xD8\xFF") {
        FileKind::Jpeg
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        FileKind::Gif
    } else if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WEBP" {
        FileKind::Webp
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        FileKind::Mp4
    } else if starts(b"\x1A\x45\xDF\xA3") {
        FileKind::Webm
    } else if starts(b"OggS") {
        FileKind::Ogg
    } else if is_text(head) {
        FileKind::Text
    } else {
        FileKind::Other
    }
}

fn is_text(head: &[u8]) -> bool {
    let head = &head[..head.len().min(KIND_PREFIX_BYTES)];
    // The prefix may end inside a character: only the last 3 bytes may be cut.
    let valid = match std::str::from_utf8(head) {
        Ok(_) => head.len(),
        Err(err) if err.error_len().is_none() && head.len() - err.valid_up_to() < 4 => {
            err.valid_up_to()
        }
        Err(_) => return false,
    };
    !head.is_empty()
        && head[..valid]
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(file_kind(b"%PDF-1.7\n"), FileKind::Pdf);
        assert_eq!(file_kind(b"PK\x03\x04\x14\x00"), FileKind::Zip);
        assert_eq!(
            file_kind(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"),
            FileKind::Ole
        );
        assert_eq!(file_kind(b"\x89PNG\r\n\x1a\n\x00"), FileKind::Png);
        assert_eq!(file_kind(b"RIFF\x00\x00\x00\x00WEBPVP8 "), FileKind::Webp);
        assert_eq!(file_kind(b"\x00\x00\x00\x18ftypmp42"), FileKind::Mp4);
        assert_eq!(file_kind("会议纪要\n第一项".as_bytes()), FileKind::Text);
        // A prefix that cuts a character in two is still text.
        assert_eq!(file_kind(&"会议".as_bytes()[..5]), FileKind::Text);
        assert_eq!(file_kind(b"\x00\x01\x02binary"), FileKind::Other);
        assert_eq!(file_kind(b""), FileKind::Other);
        assert_eq!(FileKind::Other.mime(), "application/octet-stream");
        for ext in FileKind::EXTENSIONS {
            assert!(!ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }
}
