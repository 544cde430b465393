//! libpq's two credential files, read as libpq reads them: the password
//! file (`~/.pgpass` or `PGPASSFILE`: `host:port:database:user:password`
//! lines, `*` matching anything, `\:` and `\\` escapes, ignored with a
//! warning when group or world can read it) and the connection service file
//! (`pg_service.conf`: `[name]` sections of `keyword=value` lines).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One line of a password file.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PassEntry {
    fields: [String; 4],
    password: String,
}

impl std::fmt::Debug for PassEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PassEntry({} password=***)", self.fields.join(":"))
    }
}

/// Why a credential file was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialFileError {
    /// The password file can be read by others: libpq ignores it too.
    #[error(
        "the password file {0} has group or world access and was ignored; permissions should be u=rw (0600) or less"
    )]
    OpenPasswordFile(PathBuf),
    /// A service file could not be read.
    #[error("cannot read the service file {path}: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A line of a service file is not `[name]`, `keyword=value` or a comment.
    #[error("syntax error in the service file {path}, line {line}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// No service file defines the service.
    #[error("the PostgreSQL service \"{0}\" is not defined in any service file ({1})")]
    NoSuchService(String, String),
}

/// Splits a password file line on unescaped `:` (`\:` and `\\` unescaped).
fn split_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(last) = fields.last_mut()
                {
                    last.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(last) = fields.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    fields
}

/// The entries of a password file's text (comments, blank and short lines
/// skipped, as libpq does; a password may contain escaped colons).
pub(crate) fn parse_pgpass(text: &str) -> Vec<PassEntry> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|line| {
            let mut fields = split_line(line);
            if fields.len() < 5 {
                return None;
            }
            // Unescaped colons past the fourth belong to the password.
            let password = fields.split_off(4).join(":");
            let fields: [String; 4] = fields.try_into().ok()?;
            Some(PassEntry { fields, password })
        })
        .collect()
}

/// The password of the first entry matching the connection, as libpq
/// matches: `*` matches anything; a socket directory matches `localhost`.
pub(crate) fn lookup(
    entries: &[PassEntry],
    host: &str,
    port: &str,
    database: &str,
    user: &str,
) -> Option<String> {
    let host = if host.is_empty() || host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let wanted = [host, port, database, user];
    entries
        .iter()
        .find(|e| {
            e.fields
                .iter()
                .zip(wanted)
                .all(|(field, value)| field == "*" || field == value)
        })
        .map(|e| e.password.clone())
}

/// Reads a password file: `Ok(None)` when there is none (or it is not a
/// plain file); an error when group or world may read it (then it is not
/// used, as libpq does).
pub(crate) fn read_pgpass(path: &Path) -> Result<Option<Vec<PassEntry>>, CredentialFileError> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if !meta.is_file() {
        return Ok(None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(CredentialFileError::OpenPasswordFile(path.to_path_buf()));
        }
    }
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(parse_pgpass(&text))),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "the password file cannot be read");
            Ok(None)
        }
    }
}

/// The services of a service file's text: name to `keyword=value` pairs.
pub(crate) fn parse_service_file(
    text: &str,
    path: &Path,
) -> Result<BTreeMap<String, Vec<(String, String)>>, CredentialFileError> {
    let mut services: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let syntax = || CredentialFileError::Syntax {
            path: path.to_path_buf(),
            line: i + 1,
        };
        if let Some(name) = line.strip_prefix('[') {
            let name = name
                .strip_suffix(']')
                .ok_or_else(syntax)?
                .trim()
                .to_string();
            services.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(syntax)?;
        let name = current.as_ref().ok_or_else(syntax)?;
        services
            .entry(name.clone())
            .or_default()
            .push((key.trim().to_string(), value.trim().to_string()));
    }
    Ok(services)
}

/// The files searched for a service, in libpq's order: `PGSERVICEFILE` or
/// `~/.pg_service.conf`, then `PGSYSCONFDIR/pg_service.conf` (default
/// `/etc/postgresql-common`, where Debian's libpq looks).
pub(crate) fn service_files(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let user = match env("PGSERVICEFILE") {
        Some(file) => Some(PathBuf::from(file)),
        None => env("HOME").map(|h| PathBuf::from(h).join(".pg_service.conf")),
    };
    let system =
        PathBuf::from(env("PGSYSCONFDIR").unwrap_or_else(|| "/etc/postgresql-common".into()))
            .join("pg_service.conf");
    user.into_iter().chain([system]).collect()
}

/// The settings of a service: from the first file that defines it.
pub(crate) fn find_service(
    name: &str,
    files: &[PathBuf],
) -> Result<Vec<(String, String)>, CredentialFileError> {
    for path in files {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(CredentialFileError::Unreadable {
                    path: path.clone(),
                    message: e.to_string(),
                });
            }
        };
        if let Some(settings) = parse_service_file(&text, path)?.remove(name) {
            return Ok(settings);
        }
    }
    let searched: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    Err(CredentialFileError::NoSuchService(
        name.to_string(),
        searched.join(", "),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_lines_match_as_libpq_matches_them() {
        let entries = parse_pgpass(
            "# comment\n\
             db.example:5432:sales:alice:first\n\
             *:*:*:bob:c\\:o\\\\lon:tail\n\
             localhost:6000:*:carol:sock\r\n\
             short:line\n\
             *:*:*:*:fallback\n",
        );
        assert_eq!(entries.len(), 4);
        assert_eq!(
            lookup(&entries, "db.example", "5432", "sales", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            lookup(&entries, "db.example", "5433", "sales", "alice").as_deref(),
            Some("fallback")
        );
        assert_eq!(
            lookup(&entries, "h", "1", "d", "bob").as_deref(),
            Some("c:o\\lon:tail")
        );
        assert_eq!(
            lookup(&entries, "/var/run/postgresql", "6000", "x", "carol").as_deref(),
            Some("sock")
        );
        assert!(lookup(&entries[..3], "other", "1", "d", "dave").is_none());
        assert!(!format!("{entries:?}").contains("first"));
    }

    #[cfg(unix)]
    #[test]
    fn a_password_file_others_can_read_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            read_pgpass(&path),
            Err(CredentialFileError::OpenPasswordFile(path.clone()))
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_pgpass(&path).unwrap().unwrap().len(), 1);
        assert_eq!(read_pgpass(&dir.path().join("none")), Ok(None));
    }

    #[test]
    fn service_files_are_searched_user_file_first() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("user.conf");
        let system = dir.path().join("pg_service.conf");
        std::fs::write(&user, "# mine\n[sales]\nhost=db1\nport = 6000\n\n[empty]\n").unwrap();
        std::fs::write(
            &system,
            "[sales]\nhost=ignored\n[hr]\nhost=db2\ndbname=hr\n",
        )
        .unwrap();
        let files = [user.clone(), system.clone()];
        assert_eq!(
            find_service("sales", &files).unwrap(),
            vec![
                ("host".to_string(), "db1".to_string()),
                ("port".to_string(), "6000".to_string())
            ]
        );
        assert_eq!(find_service("hr", &files).unwrap()[1].1, "hr");
        assert!(find_service("empty", &files).unwrap().is_empty());
        assert!(matches!(
            find_service("nope", &files),
            Err(CredentialFileError::NoSuchService(..))
        ));
        std::fs::write(&user, "host=before-any-section\n").unwrap();
        assert_eq!(
            find_service("sales", &files),
            Err(CredentialFileError::Syntax {
                path: user.clone(),
                line: 1
            })
        );
        let env = |k: &str| match k {
            "PGSERVICEFILE" => Some("/a/b.conf".to_string()),
            "PGSYSCONFDIR" => Some("/etc/pg".to_string()),
            _ => None,
        };
        assert_eq!(
            service_files(&env),
            vec![
                PathBuf::from("/a/b.conf"),
                PathBuf::from("/etc/pg/pg_service.conf")
            ]
        );
    }
}
