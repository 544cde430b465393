//! The key mask mode makes its pseudonyms with ([`crate::domain::mask`]):
//! 32 random bytes in `mask.key` in the data dir, readable by its owner
//! only, so a value shows the same pseudonym in the window and the CLI,
//! today and tomorrow, on this machine.

use std::io::Write;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::domain::mask::Mask;

/// The key file's name in the data dir.
pub const MASK_KEY_FILE: &str = "mask.key";

/// The mask made with the data dir's key, and a sentence when the key
/// could not be kept: the pseudonyms are then made with a key of this run
/// only (still masked, only not the same in the next run). A missing key
/// is made in the data dir when it exists, or when `make_dir` (a run that
/// makes the data dir anyway); a read that creates nothing makes no dir.
pub fn mask_for(data_dir: &Path, make_dir: bool) -> (Mask, Option<String>) {
    let path = data_dir.join(MASK_KEY_FILE);
    match read_key(&path) {
        Ok(Some(key)) => match Mask::with_key(&key) {
            Ok(mask) => return (mask, None),
            Err(short) => {
                return (
                    session_mask(),
                    Some(format!(
                        "{} is not a usable mask key ({short}); masking with a key of this run only",
                        path.display()
                    )),
                );
            }
        },
        Ok(None) if !make_dir && !data_dir.is_dir() => {
            return (
                session_mask(),
                Some(format!(
                    "no data dir {} to keep a mask key in (a read creates none); masking with a key of this run only",
                    data_dir.display()
                )),
            );
        }
        Ok(None) => {}
        Err(error) => {
            return (
                session_mask(),
                Some(format!(
                    "{} cannot be read ({error}); masking with a key of this run only",
                    path.display()
                )),
            );
        }
    }
    let key = random_key();
    // Read back what is there: another process may have made it first.
    match write_key(&path, &key).and_then(|()| read_key(&path)) {
        Ok(Some(key)) => match Mask::with_key(&key) {
            Ok(mask) => (mask, None),
            Err(short) => (
                session_mask(),
                Some(format!(
                    "{} is not a usable mask key ({short}); masking with a key of this run only",
                    path.display()
                )),
            ),
        },
        Ok(None) => (session_mask(), None),
        Err(error) => (
            session_mask(),
            Some(format!(
                "the mask key cannot be kept in {} ({error}); masking with a key of this run only",
                path.display()
            )),
        ),
    }
}

fn random_key() -> Vec<u8> {
    let mut key = Vec::with_capacity(32);
    key.extend_from_slice(Uuid::new_v4().as_bytes());
    key.extend_from_slice(Uuid::new_v4().as_bytes());
    key
}

fn session_mask() -> Mask {
    // 32 bytes is over the shortest key: this cannot fail, and when it
    // did, an off mask would show personal data, so fall back to a fixed
    // key rather than to none.
    Mask::with_key(&random_key())
        .or_else(|_| Mask::with_key(b"ledgerscope session mask key"))
        .unwrap_or_default()
}

fn read_key(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn write_key(path: &Path, key: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(key)?;
            file.sync_all()
        }
        // Another process made it first: theirs is read back.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::personal::PersonalKind;

    #[test]
    fn the_key_is_kept_so_pseudonyms_stay_the_same() {
        let dir = tempfile::tempdir().expect("dir");
        let (a, note) = mask_for(dir.path(), false);
        assert!(note.is_none());
        let (b, _) = mask_for(dir.path(), false);
        assert!(a.is_on() && b.is_on());
        assert_eq!(
            a.text(PersonalKind::Email, "ana@example.com"),
            b.text(PersonalKind::Email, "ana@example.com")
        );
    }

    #[test]
    fn a_read_without_a_data_dir_still_masks_makes_nothing_and_says_so() {
        let dir = tempfile::tempdir().expect("dir");
        let (mask, note) = mask_for(&dir.path().join("absent"), false);
        assert!(mask.is_on());
        assert!(note.is_some_and(|n| n.contains("creates none")));
        assert!(!dir.path().join("absent").exists(), "nothing made");
    }
}
