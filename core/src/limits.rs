//! The protocol's size limits. Servers refuse anything beyond them with a reason.

/// The longest text message, in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// The longest display name of a person, in characters.
pub const MAX_PERSON_NAME_CHARS: usize = 32;
/// The longest discussion group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 50;
/// The longest query of the server's history search (PROTOCOL §17).
pub const MAX_SEARCH_CHARS: usize = 100;
/// The longest signature, in characters.
pub const MAX_SIGNATURE_CHARS: usize = 100;
/// The longest department or job name, in characters.
pub const MAX_DIRECTORY_NAME_CHARS: usize = 50;
/// The longest broadcast title, in characters.
pub const MAX_BROADCAST_TITLE_CHARS: usize = 100;
/// The longest broadcast text, in characters.
pub const MAX_BROADCAST_CHARS: usize = 10_000;
/// The longest original file name sent with an image or voice message, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 255;
/// The largest image, in bytes (JPEG, PNG, GIF or WebP).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;
/// The largest file of any kind (28888, PROTOCOL §15.6) a server accepts by
/// default; a deployment may change it.
pub const MAX_FILE_BYTES: u64 = 100 * 1024 * 1024;
/// The most one user may store (files sent plus uploads under way) by default.
pub const USER_QUOTA_BYTES: u64 = 10 * 1024 * 1024 * 1024;
/// The most bytes one upload chunk carries: base64 and the JSON around it
/// stay far inside a frame.
pub const MAX_UPLOAD_CHUNK_BYTES: usize = 1024 * 1024;
const _: () = assert!(MAX_UPLOAD_CHUNK_BYTES * 2 < crate::MAX_FRAME_BYTES);
/// How long an upload not sent is kept, in milliseconds (24 hours).
pub const UPLOAD_EXPIRY_MS: i64 = 24 * 60 * 60 * 1000;
/// The largest voice recording, in bytes (WebM/Ogg Opus or MP4/AAC).
pub const MAX_VOICE_BYTES: usize = 2 * 1024 * 1024;
/// The shortest voice message, in seconds.
pub const MIN_VOICE_SECONDS: u32 = 1;
/// The longest voice message, in seconds.
pub const MAX_VOICE_SECONDS: u32 = 60;
/// The most members a discussion group may have, its holder included.
pub const MAX_GROUP_MEMBERS: usize = 500;
/// The most members one group text may @-mention (§15.4): a whole group.
pub const MAX_MENTIONS: usize = MAX_GROUP_MEMBERS;
/// The most users one signature sync may ask about.
pub const MAX_SIGNATURE_USERS: usize = 500;
/// The most messages or broadcasts in one sync page.
pub const MAX_PAGE: u32 = 200;
/// The most messages in one catch-up page: a device that was away, or a new
/// one, takes everything it missed in few round trips. The server may send
/// fewer (see [`MAX_PAGE_CONTENT_BYTES`]).
pub const MAX_CATCH_UP_PAGE: u32 = 1_000;
/// About the most message content one page carries: a page stops before
/// this is passed (it always holds at least one message), so a page of long
/// texts stays far inside [`crate::MAX_FRAME_BYTES`].
pub const MAX_PAGE_CONTENT_BYTES: usize = 2 * 1024 * 1024;
// Base64 and the JSON around the content at most double it: a full page
// stays far inside a frame.
const _: () = assert!(MAX_PAGE_CONTENT_BYTES * 2 < crate::MAX_FRAME_BYTES);
/// The page size when a sync request names none.
pub const DEFAULT_PAGE: u32 = 50;
