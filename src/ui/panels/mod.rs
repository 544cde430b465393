//! The panels. Each is `fn x_ui(ui, &View, &mut Vec<UiCommand>)`: it reads the
//! view, draws, and pushes commands; none does I/O.

pub mod compare;
pub mod dialogs;
pub mod emit;
pub mod operations;
pub mod time_travel;
pub mod timeline;
pub mod top_bar;
