//! How a built-in read table is described once: [`read_table!`] turns one
//! list of columns (field, Rust type, shown name, [`ColumnType`]) with the
//! table's name, key, schema version and events into the row struct, its
//! borrowed twin, its [`TableDescription`] and the glue every store and
//! codec uses: the cells in column order written to a [`CellWriter`]
//! (SQLite and PostgreSQL binds, COPY, the snapshot row form) and read back
//! from a [`CellReader`], and each cell as text. The SQL type of a column
//! follows from its Rust type ([`Cell::SQL`]). Everything is generic and
//! monomorphised: a store or codec reads and writes the typed fields as a
//! hand-written one would.

use chrono::NaiveDate;
use uuid::Uuid;

use super::ColumnType;
use crate::domain::event::BookingStatus;

/// A column's type in the SQL read stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// PostgreSQL `uuid`; SQLite `TEXT` (hyphenated, lower case).
    Uuid,
    /// `text`.
    Text,
    /// PostgreSQL `date`; SQLite `TEXT` (`YYYY-MM-DD`).
    Date,
    /// PostgreSQL `integer`; SQLite `INTEGER`.
    Int4,
    /// PostgreSQL `bigint`; SQLite `INTEGER`.
    Int8,
}

impl SqlType {
    /// The type's name in SQLite DDL (as `PRAGMA table_info` reports it).
    pub fn sqlite(self) -> &'static str {
        match self {
            SqlType::Uuid | SqlType::Text | SqlType::Date => "TEXT",
            SqlType::Int4 | SqlType::Int8 => "INTEGER",
        }
    }

    /// The type's name in PostgreSQL DDL (as `information_schema.columns`
    /// reports it in `data_type`).
    pub fn postgres(self) -> &'static str {
        match self {
            SqlType::Uuid => "uuid",
            SqlType::Text => "text",
            SqlType::Date => "date",
            SqlType::Int4 => "integer",
            SqlType::Int8 => "bigint",
        }
    }
}

/// One column of a built-in table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its name in every store (the row struct's field).
    pub name: &'static str,
    /// Its name where rows are shown (the panels, the CLI).
    pub label: &'static str,
    /// What it holds.
    pub ty: ColumnType,
    /// Its type in the SQL stores.
    pub sql: SqlType,
}

/// A built-in read table, described once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableDescription {
    /// The table's name (also its model's name).
    pub name: &'static str,
    /// The schema version of its columns in this build: bumped with every
    /// change of them, so stores and snapshots of another version are
    /// refused.
    pub version: u32,
    /// The key column (always the first).
    pub key: &'static str,
    /// The event types its projection listens to.
    pub events: &'static [&'static str],
    /// Its columns, in the order of the row's cells, the stores' columns and
    /// the snapshot row form.
    pub columns: &'static [Column],
}

impl TableDescription {
    /// The column names, comma separated (SQL column lists).
    pub fn column_list(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        names.join(", ")
    }

    /// The shown names, in order.
    pub fn labels(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.columns.iter().map(|c| c.label)
    }
}

/// Where a row's cells go, one call per column in order (a store's bind
/// list, a COPY row, a snapshot's bytes).
pub trait CellWriter {
    /// A UUID.
    fn uuid(&mut self, value: Uuid);
    /// Text.
    fn text(&mut self, value: &str);
    /// A calendar day.
    fn date(&mut self, value: NaiveDate);
    /// A 32-bit count.
    fn count(&mut self, value: u32);
    /// A 64-bit whole number.
    fn int(&mut self, value: i64);
    /// A ledger position.
    fn position(&mut self, value: u64);
}

/// Where a row's cells come from, one call per column in order.
pub trait CellReader {
    /// Why a cell cannot be read.
    type Error;
    /// A UUID.
    fn uuid(&mut self) -> Result<Uuid, Self::Error>;
    /// Text.
    fn text(&mut self) -> Result<String, Self::Error>;
    /// Text parsed by `parse` (its `Err` says why, in the error).
    fn parse_text<T, E: std::fmt::Display>(
        &mut self,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, Self::Error>;
    /// A calendar day.
    fn date(&mut self) -> Result<NaiveDate, Self::Error>;
    /// A 32-bit count.
    fn count(&mut self) -> Result<u32, Self::Error>;
    /// A 64-bit whole number.
    fn int(&mut self) -> Result<i64, Self::Error>;
    /// A ledger position.
    fn position(&mut self) -> Result<u64, Self::Error>;
}

/// A value a column holds, borrowed or owned: how it is written and shown.
pub trait CellOut {
    /// Whether [`CellOut::cell_text`] always writes the text into its
    /// buffer (else it borrows it).
    const WRITES: bool = true;
    /// Writes it to `w`.
    fn write<W: CellWriter>(&self, w: &mut W);
    /// Its text as [`crate::domain::Row::cells`] spells it for a column of
    /// type `ty`: borrowed, or written into `buf`.
    fn cell_text<'a>(&'a self, ty: ColumnType, buf: &'a mut String) -> &'a str;
}

/// A type a built-in column holds.
pub trait Cell: CellOut + Default + Sized {
    /// Its type in the SQL stores.
    const SQL: SqlType;
    /// Its borrowed form (text as `&str`, the rest copied).
    type Ref<'a>: CellOut + Copy + std::fmt::Debug + PartialEq + Eq;
    /// Borrows it.
    fn borrow(&self) -> Self::Ref<'_>;
    /// Owns a borrowed value.
    fn own(value: Self::Ref<'_>) -> Self;
    /// Reads it from `r`.
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error>;
}

fn put<'a>(buf: &'a mut String, text: std::fmt::Arguments<'_>) -> &'a str {
    use std::fmt::Write;
    buf.clear();
    if let Err(error) = buf.write_fmt(text) {
        tracing::error!(%error, "formatting a cell failed");
    }
    buf
}

impl CellOut for Uuid {
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.uuid(*self);
    }
    fn cell_text<'a>(&'a self, _: ColumnType, buf: &'a mut String) -> &'a str {
        buf.clear();
        buf.push_str(self.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
        buf
    }
}

impl Cell for Uuid {
    const SQL: SqlType = SqlType::Uuid;
    type Ref<'a> = Uuid;
    fn borrow(&self) -> Uuid {
        *self
    }
    fn own(value: Uuid) -> Self {
        value
    }
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error> {
        r.uuid()
    }
}

impl CellOut for String {
    const WRITES: bool = false;
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.text(self);
    }
    fn cell_text<'a>(&'a self, _: ColumnType, _: &'a mut String) -> &'a str {
        self
    }
}

impl CellOut for &str {
    const WRITES: bool = false;
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.text(self);
    }
    fn cell_text<'a>(&'a self, _: ColumnType, _: &'a mut String) -> &'a str {
        self
    }
}

impl Cell for String {
    const SQL: SqlType = SqlType::Text;
    type Ref<'a> = &'a str;
    fn borrow(&self) -> &str {
        self
    }
    fn own(value: &str) -> Self {
        value.to_string()
    }
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error> {
        r.text()
    }
}

impl CellOut for NaiveDate {
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.date(*self);
    }
    fn cell_text<'a>(&'a self, _: ColumnType, buf: &'a mut String) -> &'a str {
        put(buf, format_args!("{self}"))
    }
}

impl Cell for NaiveDate {
    const SQL: SqlType = SqlType::Date;
    type Ref<'a> = NaiveDate;
    fn borrow(&self) -> NaiveDate {
        *self
    }
    fn own(value: NaiveDate) -> Self {
        value
    }
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error> {
        r.date()
    }
}

impl CellOut for u32 {
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.count(*self);
    }
    fn cell_text<'a>(&'a self, _: ColumnType, buf: &'a mut String) -> &'a str {
        put(buf, format_args!("{self}"))
    }
}

impl Cell for u32 {
    const SQL: SqlType = SqlType::Int4;
    type Ref<'a> = u32;
    fn borrow(&self) -> u32 {
        *self
    }
    fn own(value: u32) -> Self {
        value
    }
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error> {
        r.count()
    }
}

impl CellOut for i64 {
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.int(*self);
    }
    /// Cents are spelled as [`crate::domain::event::format_cents`] spells them.
    fn cell_text<'a>(&'a self, ty: ColumnType, buf: &'a mut String) -> &'a str {
        if ty == ColumnType::Cents {
            let sign = if *self < 0 { "-" } else { "" };
            let abs = self.unsigned_abs();
            put(buf, format_args!("{sign}{}.{:02}", abs / 100, abs % 100))
        } else {
            put(buf, format_args!("{self}"))
        }
    }
}

impl Cell for i64 {
    const SQL: SqlType = SqlType::Int8;
    type Ref<'a> = i64;
    fn borrow(&self) -> i64 {
        *self
    }
    fn own(value: i64) -> Self {
        value
    }
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error> {
        r.int()
    }
}

impl CellOut for u64 {
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.position(*self);
    }
    fn cell_text<'a>(&'a self, _: ColumnType, buf: &'a mut String) -> &'a str {
        put(buf, format_args!("{self}"))
    }
}

impl Cell for u64 {
    const SQL: SqlType = SqlType::Int8;
    type Ref<'a> = u64;
    fn borrow(&self) -> u64 {
        *self
    }
    fn own(value: u64) -> Self {
        value
    }
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error> {
        r.position()
    }
}

impl CellOut for BookingStatus {
    const WRITES: bool = false;
    fn write<W: CellWriter>(&self, w: &mut W) {
        w.text(self.as_str());
    }
    fn cell_text<'a>(&'a self, _: ColumnType, _: &'a mut String) -> &'a str {
        self.as_str()
    }
}

impl Cell for BookingStatus {
    const SQL: SqlType = SqlType::Text;
    type Ref<'a> = BookingStatus;
    fn borrow(&self) -> BookingStatus {
        *self
    }
    fn own(value: BookingStatus) -> Self {
        value
    }
    fn read<R: CellReader>(r: &mut R) -> Result<Self, R::Error> {
        r.parse_text(|text| BookingStatus::parse(text).ok_or_else(|| UnknownStatus(text.into())))
    }
}

/// A `status` cell that names no [`BookingStatus`].
#[derive(Debug, thiserror::Error)]
#[error("unknown status '{0}'")]
pub struct UnknownStatus(String);

/// `text` of a cell as an owned string (one allocation).
pub fn cell_string<C: CellOut>(cell: &C, ty: ColumnType) -> String {
    let mut buf = String::new();
    if C::WRITES {
        cell.cell_text(ty, &mut buf);
        buf
    } else {
        cell.cell_text(ty, &mut buf).to_owned()
    }
}

/// A row, owned or borrowed, that writes its cells in column order.
pub trait WriteCells {
    /// Writes the cells, in column order.
    fn write_cells<W: CellWriter>(&self, w: &mut W);
}

/// A row of a described table: its description and its cells in order.
pub trait DescribedRow: WriteCells + Sized {
    /// The table's description.
    const DESCRIPTION: TableDescription;
    /// Reads a row's cells, in column order.
    fn read_cells<R: CellReader>(r: &mut R) -> Result<Self, R::Error>;
}

/// Declares a built-in read table once: the row struct (with serde and
/// the usual derives), its borrowed twin, and [`DescribedRow`] with its
/// [`TableDescription`]. Each column is
/// `field: RustType => "shown name" as ColumnTypeVariant`; the first is the
/// key. Adding a column is one line here plus a bump of `version`.
#[macro_export]
macro_rules! read_table {
    (
        $(#[$meta:meta])*
        pub struct $row:ident;
        $(#[$ref_meta:meta])*
        pub struct $rref:ident;
        table: $table:literal,
        version: $version:literal,
        events: [$($event:literal),* $(,)?],
        key: $key:ident,
        columns: {
            $( $(#[$fmeta:meta])* $field:ident: $ty:ty => $label:literal as $kind:ident, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub struct $row {
            $( $(#[$fmeta])* pub $field: $ty, )+
        }

        $(#[$ref_meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $rref<'a> {
            $( $(#[$fmeta])* pub $field: <$ty as $crate::domain::model::Cell>::Ref<'a>, )+
        }

        impl $crate::domain::model::DescribedRow for $row {
            const DESCRIPTION: $crate::domain::model::TableDescription =
                $crate::domain::model::TableDescription {
                    name: $table,
                    version: $version,
                    key: stringify!($key),
                    events: &[$($event),*],
                    columns: &[$(
                        $crate::domain::model::Column {
                            name: stringify!($field),
                            label: $label,
                            ty: $crate::domain::model::ColumnType::$kind,
                            sql: <$ty as $crate::domain::model::Cell>::SQL,
                        },
                    )+],
                };
            #[inline]
            fn read_cells<R: $crate::domain::model::CellReader>(r: &mut R) -> Result<Self, R::Error> {
                Ok($row {
                    $( $field: <$ty as $crate::domain::model::Cell>::read(r)?, )+
                })
            }
        }

        impl $crate::domain::model::WriteCells for $row {
            #[inline]
            fn write_cells<W: $crate::domain::model::CellWriter>(&self, w: &mut W) {
                $( $crate::domain::model::CellOut::write(&self.$field, w); )+
            }
        }

        impl $crate::domain::model::WriteCells for $rref<'_> {
            #[inline]
            fn write_cells<W: $crate::domain::model::CellWriter>(&self, w: &mut W) {
                $( $crate::domain::model::CellOut::write(&self.$field, w); )+
            }
        }

        impl $row {
            /// Shown column names, in the order of the row's cells.
            pub const COLUMNS: &'static [&'static str] = &[$($label),+];

            /// The row borrowed.
            pub fn as_ref(&self) -> $rref<'_> {
                $rref {
                    $( $field: $crate::domain::model::Cell::borrow(&self.$field), )+
                }
            }

            /// Cell `column` as text, borrowed from the row or written
            /// into `buf` ("" past the last column).
            #[inline]
            #[allow(unused_assignments)]
            pub fn cell_text<'a>(&'a self, column: usize, buf: &'a mut String) -> &'a str {
                let mut at = 0usize;
                $(
                    if column == at {
                        return $crate::domain::model::CellOut::cell_text(
                            &self.$field,
                            $crate::domain::model::ColumnType::$kind,
                            buf,
                        );
                    }
                    at += 1;
                )+
                ""
            }

            /// Every cell as text, in column order.
            pub fn cell_strings(&self) -> Vec<String> {
                vec![$(
                    $crate::domain::model::cell_string(
                        &self.$field,
                        $crate::domain::model::ColumnType::$kind,
                    ),
                )+]
            }
        }

        impl<'a> From<&'a $row> for $rref<'a> {
            fn from(row: &'a $row) -> Self {
                row.as_ref()
            }
        }

        impl $rref<'_> {
            /// The owned row.
            pub fn to_row(&self) -> $row {
                $row {
                    $( $field: <$ty as $crate::domain::model::Cell>::own(self.$field), )+
                }
            }
        }
    };
}
