//! Full snapshots (format 2, the one full-snapshot format): an INDEX chunk
//! plus independently decodable PAGE chunks, so time travel can load the
//! index (keys and row versions only) and then just the pages it shows.
//! The index is checked with the XXH3-128 in the snapshot's metadata, each
//! page with the SHA-256 the index holds for it.
//!
//! Chunk 0, the index (little endian): [`MAGIC`], position u64, page_rows
//! u32, n_users u64, n_bookings u64, each user entry (id 16 bytes, packed
//! u64), each booking entry (same), n_digests u64, then the SHA-256 of every
//! page chunk (32 bytes each): the users pages, then the bookings pages.
//! `packed` is `last_position | (cancelled as u64) << 63`.
//!
//! Chunks 1.., the pages: a 4-byte tag ([`USER_PAGE_TAG`] or
//! [`BOOKING_PAGE_TAG`]), row count u32, then the rows exactly as
//! [`crate::engine::snapshot_rows`] writes them (strings as u32 byte length then
//! UTF-8, dates as i32 days from CE). Every table is cut into pages of
//! `page_rows` rows in key order; the last page of a table may hold fewer.
//!
//! Every decoder returns `Err` on garbage (truncation, trailing bytes, counts
//! that cannot fit the bytes left, bad UTF-8, ...) and never allocates more
//! than the input can justify.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{BookingRow, BookingStatus, ReadState, Table, UserRow};
use crate::engine::snapshot_rows::{
    FormatError, Reader, format_error, min_row_bytes, put_booking, put_u64, put_user,
};

/// First bytes of a paged snapshot's index chunk (format 2).
pub const MAGIC: &[u8; 8] = b"LSSNAP2\n";
/// Rows per page (the last page of a table may hold fewer).
pub const PAGE_ROWS: u32 = 1024;
/// First bytes of a users page chunk.
pub const USER_PAGE_TAG: &[u8; 4] = b"LSPU";
/// First bytes of a bookings page chunk.
pub const BOOKING_PAGE_TAG: &[u8; 4] = b"LSPB";

/// Bytes of one directory entry in the index.
const ENTRY_BYTES: usize = 24;
/// Bytes of one page digest in the index.
const DIGEST_BYTES: usize = 32;
/// The cancelled bit of [`DirEntry::packed`].
const CANCELLED_BIT: u64 = 1 << 63;

/// One row in a snapshot's directory: its key, the position that last changed
/// it, and (bookings only) whether it is cancelled. 24 bytes, laid out exactly
/// as in the index chunk (alignment 1), so a decoded index is its own bytes
/// viewed as entries: no copy of a directory that has a million rows.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::Pod, bytemuck::Zeroable)]
pub struct DirEntry {
    id: [u8; 16],
    /// `last_position | (cancelled as u64) << 63`, little endian.
    packed: [u8; 8],
}

impl DirEntry {
    /// An entry; `last_position` is masked to its low 63 bits.
    pub fn new(id: Uuid, last_position: u64, cancelled: bool) -> Self {
        let packed = (last_position & !CANCELLED_BIT) | if cancelled { CANCELLED_BIT } else { 0 };
        DirEntry {
            id: id.into_bytes(),
            packed: packed.to_le_bytes(),
        }
    }

    fn packed(&self) -> u64 {
        u64::from_le_bytes(self.packed)
    }

    /// The row's primary key.
    pub fn id(&self) -> Uuid {
        Uuid::from_bytes(self.id)
    }

    /// Position of the event that last changed the row.
    pub fn last_position(&self) -> u64 {
        self.packed() & !CANCELLED_BIT
    }

    /// Whether the booking is cancelled (always false for users).
    pub fn cancelled(&self) -> bool {
        self.packed() & CANCELLED_BIT != 0
    }

    /// Entry of a user row (created_position is not in the directory).
    pub fn of_user(row: &UserRow) -> Self {
        DirEntry::new(row.user_id, row.last_position, false)
    }

    /// Entry of a booking row.
    pub fn of_booking(row: &BookingRow) -> Self {
        DirEntry::new(
            row.booking_id,
            row.last_position,
            row.status == BookingStatus::Cancelled,
        )
    }
}

/// The index of a paged snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotIndex {
    /// Last ledger position folded into the snapshot.
    pub position: u64,
    /// Rows per page (never 0 when decoded; 0 is treated as 1).
    pub page_rows: u32,
    /// Bytes holding both directories (the index chunk itself when decoded).
    bytes: Vec<u8>,
    /// Where the users entries are in `bytes`.
    users: std::ops::Range<usize>,
    /// Where the bookings entries are in `bytes`.
    bookings: std::ops::Range<usize>,
    /// SHA-256 of every page chunk: the users pages, then the bookings pages.
    pub page_sha256: Vec<[u8; 32]>,
}

/// Pages needed for `rows` rows at `page_rows` per page (0 treated as 1).
fn pages_for(rows: u64, page_rows: u32) -> u64 {
    rows.div_ceil(u64::from(page_rows.max(1)))
}

impl SnapshotIndex {
    /// An index over directories in memory (for states that were never
    /// stored as pages).
    pub fn from_entries(
        position: u64,
        page_rows: u32,
        users: &[DirEntry],
        bookings: &[DirEntry],
        page_sha256: Vec<[u8; 32]>,
    ) -> Self {
        let mut bytes = Vec::with_capacity((users.len() + bookings.len()) * ENTRY_BYTES);
        bytes.extend_from_slice(bytemuck::cast_slice(users));
        bytes.extend_from_slice(bytemuck::cast_slice(bookings));
        let mut index = SnapshotIndex::from_entry_bytes(position, page_rows, bytes, users.len());
        index.page_sha256 = page_sha256;
        index
    }

    /// An index over the entries of both tables, as bytes (the first
    /// `users` entries the users'), taken as they are.
    pub fn from_entry_bytes(position: u64, page_rows: u32, bytes: Vec<u8>, users: usize) -> Self {
        let end = bytes.len() / ENTRY_BYTES * ENTRY_BYTES;
        let split = users.saturating_mul(ENTRY_BYTES).min(end);
        SnapshotIndex {
            position,
            page_rows,
            bytes,
            users: 0..split,
            bookings: split..end,
            page_sha256: Vec::new(),
        }
    }

    /// The directory of one table.
    pub fn entries(&self, table: Table) -> &[DirEntry] {
        let range = match table {
            Table::Users => self.users.clone(),
            Table::Bookings => self.bookings.clone(),
        };
        // The ranges are whole entries and DirEntry has alignment 1, so
        // this cannot fail; an empty directory is the safe answer if it did.
        self.bytes
            .get(range)
            .and_then(|b| bytemuck::try_cast_slice(b).ok())
            .unwrap_or(&[])
    }

    /// Pages of one table (ceil(rows / page_rows)).
    pub fn pages(&self, table: Table) -> u32 {
        let rows = self.entries(table).len() as u64;
        u32::try_from(pages_for(rows, self.page_rows)).unwrap_or(u32::MAX)
    }

    /// The chunk number that holds page `page` of `table`: chunk 0 is the index,
    /// then the users pages, then the bookings pages.
    pub fn chunk_of(&self, table: Table, page: u32) -> u32 {
        chunk_of_page(self.pages(Table::Users), table, page)
    }

    /// Total chunks (1 + all pages).
    pub fn chunks(&self) -> u32 {
        chunk_of_page(
            self.pages(Table::Users),
            Table::Bookings,
            self.pages(Table::Bookings),
        )
    }

    /// Which page holds the row with this ordinal (index in `entries`), and where in it.
    pub fn locate(&self, ordinal: usize) -> (u32, usize) {
        let rows = self.page_rows.max(1) as usize;
        let page = u32::try_from(ordinal / rows).unwrap_or(u32::MAX);
        (page, ordinal % rows)
    }
}

/// The chunk holding page `page` of `table` in a snapshot stored as an index
/// chunk, then the users pages (`user_pages` of them), then the bookings
/// pages (the layout of full and history snapshots).
pub fn chunk_of_page(user_pages: u32, table: Table, page: u32) -> u32 {
    let before = match table {
        Table::Users => 0,
        Table::Bookings => user_pages,
    };
    1u32.saturating_add(before).saturating_add(page)
}

/// A row type that pages hold.
trait PageRow {
    /// The page tag.
    const TAG: &'static [u8; 4];
    /// A rough encoded size, to pre-size page buffers.
    const APPROX_BYTES: usize = 96;
    /// The row's directory entry.
    fn entry(&self) -> DirEntry;
    /// Appends the encoded row.
    fn put(&self, out: &mut Vec<u8>);
}

impl PageRow for UserRow {
    const TAG: &'static [u8; 4] = USER_PAGE_TAG;
    fn entry(&self) -> DirEntry {
        DirEntry::of_user(self)
    }
    fn put(&self, out: &mut Vec<u8>) {
        put_user(out, self);
    }
}

impl PageRow for BookingRow {
    const TAG: &'static [u8; 4] = BOOKING_PAGE_TAG;
    fn entry(&self) -> DirEntry {
        DirEntry::of_booking(self)
    }
    fn put(&self, out: &mut Vec<u8>) {
        put_booking(out, self);
    }
}

/// Cuts one table into page chunks (pushed to `pages`) while writing its
/// directory to `dir`, in one pass over the rows.
fn encode_table<'a, R: PageRow + 'a>(
    rows: impl ExactSizeIterator<Item = &'a R>,
    page_rows: u32,
    dir: &mut Vec<u8>,
    pages: &mut Vec<Vec<u8>>,
) {
    let per_page = (page_rows as usize).max(1);
    let total = rows.len();
    let mut page: Vec<u8> = Vec::new();
    for (i, row) in rows.enumerate() {
        if i.is_multiple_of(per_page) {
            if !page.is_empty() {
                pages.push(std::mem::take(&mut page));
            }
            let in_page = per_page.min(total.saturating_sub(i));
            page = Vec::with_capacity(8 + in_page * R::APPROX_BYTES);
            page.extend_from_slice(R::TAG);
            page.extend_from_slice(&(in_page as u32).to_le_bytes());
        }
        dir.extend_from_slice(bytemuck::bytes_of(&row.entry()));
        row.put(&mut page);
    }
    if !page.is_empty() {
        pages.push(page);
    }
}

/// Encodes a state as chunk 0 (the index) followed by one chunk per page.
/// A `page_rows` of 0 is taken as 1. An empty state is the index chunk only.
pub fn encode(state: &ReadState, page_rows: u32) -> Vec<Vec<u8>> {
    let page_rows = page_rows.max(1);
    let n_users = state.users.len();
    let n_bookings = state.bookings.len();
    let n_pages = pages_for(n_users as u64, page_rows) + pages_for(n_bookings as u64, page_rows);
    let mut pages: Vec<Vec<u8>> = Vec::with_capacity(n_pages as usize);
    let mut dir = Vec::with_capacity((n_users + n_bookings) * ENTRY_BYTES);
    encode_table(state.users.values(), page_rows, &mut dir, &mut pages);
    encode_table(state.bookings.values(), page_rows, &mut dir, &mut pages);
    let mut index = Vec::with_capacity(
        MAGIC.len() + 8 + 4 + 8 + 8 + dir.len() + 8 + pages.len() * DIGEST_BYTES,
    );
    index.extend_from_slice(MAGIC);
    put_u64(&mut index, state.position);
    index.extend_from_slice(&page_rows.to_le_bytes());
    put_u64(&mut index, n_users as u64);
    put_u64(&mut index, n_bookings as u64);
    index.extend_from_slice(&dir);
    put_u64(&mut index, pages.len() as u64);
    for page in &pages {
        index.extend_from_slice(&sha256(page));
    }
    let mut chunks = Vec::with_capacity(1 + pages.len());
    chunks.push(index);
    chunks.extend(pages);
    chunks
}

/// Whether a first chunk is a format-2 index.
pub fn is_paged(first_chunk: &[u8]) -> bool {
    first_chunk.starts_with(MAGIC)
}

/// SHA-256 of a chunk (what `page_sha256` holds).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Checks `n` directory entries in exactly `n * ENTRY_BYTES` bytes: keys
/// strictly increase (binary searches depend on it) and no user is flagged
/// cancelled. One pass, no allocation.
fn check_dir(raw: &[u8], n: usize, table: Table) -> Result<(), FormatError> {
    let entries: &[DirEntry] = bytemuck::try_cast_slice(raw)
        .map_err(|_| format_error!("{table:?} directory is truncated"))?;
    if entries.len() != n {
        return Err(format_error!("{table:?} directory is truncated"));
    }
    for (i, pair) in entries.windows(2).enumerate() {
        if pair[0].id >= pair[1].id {
            return Err(format_error!(
                "{table:?} directory keys are not strictly increasing at entry {}",
                i + 1
            ));
        }
    }
    if table == Table::Users
        && let Some(i) = entries.iter().position(|e| e.cancelled())
    {
        return Err(format_error!("user entry {i} is flagged cancelled"));
    }
    Ok(())
}

/// Decodes an index chunk. Rejects: wrong magic, truncation, trailing bytes,
/// counts that cannot fit the bytes left, page_rows == 0, keys not strictly
/// increasing in either table, a user entry flagged cancelled, a page-digest
/// count that differs from pages(Users)+pages(Bookings).
pub fn decode_index(bytes: &[u8]) -> Result<SnapshotIndex, FormatError> {
    index_layout(bytes).map(|layout| SnapshotIndex {
        bytes: bytes.to_vec(),
        ..layout
    })
}

/// The 128-bit XXH3 of `bytes`, in hex: the index chunk's checksum on
/// every load, about ten times cheaper than SHA-256 on a 28 MB index (which
/// would be half of a time-travel query). The metadata lives in the same store as the
/// bytes, so a cryptographic hash guards against nothing more here than a
/// strong checksum does: both catch changed bytes.
pub fn xxh3_hex(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// [`decode_index`] keeping the chunk's own bytes as the directory (no
/// copy), and the chunk's XXH3 ([`xxh3_hex`]), computed on a second thread
/// while the directory is checked.
pub fn decode_index_owned(
    bytes: Vec<u8>,
) -> Result<(Result<SnapshotIndex, FormatError>, String), FormatError> {
    let (layout, digest) = std::thread::scope(|scope| {
        let digest = scope.spawn(|| xxh3_hex(&bytes));
        let layout = index_layout(&bytes);
        (layout, digest.join())
    });
    let digest = digest.map_err(|_| FormatError::from("the checksum thread panicked"))?;
    let index = layout.map(|layout| SnapshotIndex { bytes, ..layout });
    Ok((index, digest))
}

/// Checks an index chunk; the result has every field but the bytes.
fn index_layout(bytes: &[u8]) -> Result<SnapshotIndex, FormatError> {
    if !is_paged(bytes) {
        return Err("not a paged snapshot index (wrong magic)".into());
    }
    let mut r = Reader::at(bytes, MAGIC.len());
    let position = r.u64()?;
    let page_rows = r.u32()?;
    if page_rows == 0 {
        return Err("page_rows is 0".into());
    }
    let n_users = r.u64()?;
    let n_bookings = r.u64()?;
    let left = r.left() as u64;
    // Both directories plus the digest count must fit in what is left.
    let dir_bytes = n_users
        .checked_add(n_bookings)
        .and_then(|n| n.checked_mul(ENTRY_BYTES as u64))
        .filter(|b| b.saturating_add(8) <= left)
        .ok_or_else(|| {
            format_error!("{n_users} users and {n_bookings} bookings cannot fit in {left} bytes")
        })?;
    let users_bytes = n_users * ENTRY_BYTES as u64;
    let users_at = r.offset();
    check_dir(
        r.take(users_bytes as usize)?,
        n_users as usize,
        Table::Users,
    )?;
    let bookings_at = r.offset();
    check_dir(
        r.take((dir_bytes - users_bytes) as usize)?,
        n_bookings as usize,
        Table::Bookings,
    )?;
    let bookings_end = r.offset();
    let n_digests = r.u64()?;
    let expected = pages_for(n_users, page_rows) + pages_for(n_bookings, page_rows);
    if n_digests != expected {
        return Err(format_error!(
            "{n_digests} page digests for {expected} pages"
        ));
    }
    let digest_bytes = n_digests.saturating_mul(DIGEST_BYTES as u64);
    let left = r.left() as u64;
    if digest_bytes > left {
        return Err(format_error!(
            "{n_digests} page digests cannot fit in {left} bytes"
        ));
    }
    let (digests, _) = r.take(digest_bytes as usize)?.as_chunks::<DIGEST_BYTES>();
    let page_sha256 = digests.to_vec();
    r.finish()?;
    Ok(SnapshotIndex {
        position,
        page_rows,
        bytes: Vec::new(),
        users: users_at..bookings_at,
        bookings: bookings_at..bookings_end,
        page_sha256,
    })
}

/// Checks a page's tag and reads its row count, bounded by the bytes left.
fn page_header<'a>(
    bytes: &'a [u8],
    tag: &[u8; 4],
    min_row_bytes: usize,
) -> Result<(Reader<'a>, usize), FormatError> {
    if !bytes.starts_with(tag) {
        return Err(format_error!(
            "not a {} page (wrong tag)",
            String::from_utf8_lossy(tag)
        ));
    }
    let mut r = Reader::at(bytes, tag.len());
    let n = r.u32()? as usize;
    let left = r.left();
    if n.saturating_mul(min_row_bytes) > left {
        return Err(format_error!("{n} rows cannot fit in {left} bytes"));
    }
    Ok((r, n))
}

/// Decodes a users page; its rows in key order.
pub fn decode_user_page(bytes: &[u8]) -> Result<Vec<UserRow>, FormatError> {
    let (mut r, n) = page_header(bytes, USER_PAGE_TAG, min_row_bytes::<UserRow>())?;
    let mut rows = Vec::with_capacity(n);
    for _ in 0..n {
        rows.push(r.user()?);
    }
    r.finish()?;
    Ok(rows)
}

/// Decodes a bookings page; its rows in key order.
pub fn decode_booking_page(bytes: &[u8]) -> Result<Vec<BookingRow>, FormatError> {
    let (mut r, n) = page_header(bytes, BOOKING_PAGE_TAG, min_row_bytes::<BookingRow>())?;
    let mut rows = Vec::with_capacity(n);
    for _ in 0..n {
        rows.push(r.booking()?);
    }
    r.finish()?;
    Ok(rows)
}

/// Lower-case hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
