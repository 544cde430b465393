//! Read models as data: a model is a name, a schema version, the tables it
//! keeps (columns with their types, a key) and the event types it listens
//! to. The built-in models (`users`, `bookings`) and the models users write
//! are both described this way, and the stores, the snapshot codecs, the
//! comparisons and the screens derive what they do from the description.
//! A model users write is text ([`sql`]).

mod builtin;
mod row;
pub mod sql;
mod value;

pub use builtin::{BOOKINGS, BuiltinModel, ModelVersions, USERS};
pub use row::{
    Cell, CellOut, CellReader, CellWriter, Column, DescribedRow, SqlType, TableDescription,
    WriteCells, cell_string,
};
pub use sql::{DefinitionError, ModelText, parse_model};
pub use value::{ColumnDef, ColumnType, ModelDef, TableDef, Value};
