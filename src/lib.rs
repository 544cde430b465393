//! Ledgerscope: a native explorer for an event-sourced booking system.
//!
//! Layers (dependencies point down only): [`ui`] -> [`engine`] -> [`domain`];
//! [`engine`] talks to storage only through the ports in [`store`]; adapters
//! implement the ports. [`cli`] is the headless face of the same engine.

pub mod bench;
pub mod cli;
pub mod domain;
pub mod engine;
pub mod store;
pub mod ui;
