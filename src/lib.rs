//! Ledgerscope: a native explorer for an event-sourced booking system.
//!
//! Layers (dependencies point down only): [`ui`] -> [`engine`] -> [`domain`];
//! [`engine`] talks to storage only through the ports in [`store`]; adapters
//! implement the ports. [`cli`] is the headless face of the same engine.

pub mod cli;
pub mod crash;
pub mod domain;
pub mod engine;
pub mod logging;
pub mod store;
pub mod ui;

#[cfg(test)]
mod layering {
    use std::path::Path;

    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }

    /// The window and the command line read through the engine's queries
    /// only: neither reaches its stores.
    #[test]
    fn the_engine_is_the_only_door_for_the_ui_and_the_cli() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root.join("ui"), &mut files);
        sources(&root.join("cli"), &mut files);
        assert!(files.len() > 20, "found {} files", files.len());
        for (path, text) in files {
            for (n, line) in text.lines().enumerate() {
                assert!(
                    !line.contains(".stores()")
                        && !line.contains("stores.ledger")
                        && !line.contains("stores.read"),
                    "{path}:{}: reaches past the engine: {line}",
                    n + 1
                );
            }
        }
    }
}
