//! Credentials as production keeps them. PostgreSQL's connection is
//! completed as libpq completes it: the URL's (or `key=value` string's)
//! settings first, then a service's (`service=`, `--postgres-service` or
//! `PGSERVICE`, from `pg_service.conf`), then libpq's environment (`PGHOST`,
//! `PGPORT`, `PGUSER`, `PGDATABASE`, `PGSSLMODE`, ...), then the defaults.
//! The password: the URL's, the one typed in the window, the service's,
//! `PGPASSWORD`, then the password file (`passfile`, `PGPASSFILE` or
//! `~/.pgpass`). MongoDB's password may come from a file or
//! `LEDGERSCOPE_MONGO_PASSWORD`, with the user in the URI or `--mongo-user`.
//!
//! A password is held in a [`Secret`], which never prints.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::pgpass::{CredentialFileError, find_service, lookup, read_pgpass, service_files};

/// Environment variable holding the MongoDB password.
pub const MONGO_PASSWORD_ENV: &str = "LEDGERSCOPE_MONGO_PASSWORD";

/// A password: compared and cloned, never printed, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The password itself, for the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why the credentials could not be put together. Never holds a password.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The URL or `key=value` string cannot be read.
    #[error("the PostgreSQL connection string is not usable: {0}")]
    Unusable(String),
    /// A service or password file is wrong.
    #[error(transparent)]
    File(#[from] CredentialFileError),
    /// The MongoDB password file cannot be read.
    #[error("cannot read the MongoDB password file {path}")]
    PasswordFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The MongoDB password file is empty.
    #[error("the MongoDB password file {0} is empty")]
    EmptyPasswordFile(PathBuf),
}

/// What names a PostgreSQL read store: a URL or `key=value` string and/or a
/// service, and a password typed in the window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PgTarget {
    /// `postgres://...` or `host=... dbname=...` (may be empty).
    pub url: Option<String>,
    /// A service of `pg_service.conf` (`--postgres-service`).
    pub service: Option<String>,
    /// A password given apart from the URL (the window's password field).
    pub password: Option<Secret>,
}

/// A PostgreSQL connection completed from every source.
#[derive(Debug)]
pub struct ResolvedPg {
    /// A `key=value` connection string without the password.
    pub conninfo: String,
    /// The password, if any source had one.
    pub password: Option<Secret>,
    /// Where the password came from (`PGPASSWORD`, the password file ...).
    pub password_from: Option<String>,
    /// Warnings to log and to add to a refused sign-in (an ignored file).
    pub notes: Vec<String>,
}

/// libpq's environment variables tokio-postgres (and our TLS layer) can
/// express, with the keyword each stands for.
const ENV_KEYWORDS: [(&str, &str); 16] = [
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGOPTIONS", "options"),
    ("PGAPPNAME", "application_name"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGPASSFILE", "passfile"),
];

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The settings of a `postgres://` URL, as libpq reads it.
fn parse_url(url: &str) -> Result<Vec<(String, String)>, CredentialError> {
    let rest = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
        .ok_or_else(|| CredentialError::Unusable("not a postgres:// URL".into()))?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut settings = Vec::new();
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                settings.push(("user".to_string(), decode(user)));
            }
            if let Some(password) = password {
                settings.push(("password".to_string(), decode(password)));
            }
            hosts
        }
        None => authority,
    };
    if !hosts.is_empty() {
        let (mut names, mut ports) = (Vec::new(), Vec::new());
        for spec in hosts.split(',') {
            let (name, port) = if let Some(inner) = spec.strip_prefix('[') {
                let (name, after) = inner
                    .split_once(']')
                    .ok_or_else(|| CredentialError::Unusable("an IPv6 host has no ']'".into()))?;
                (name, after.strip_prefix(':').unwrap_or(""))
            } else {
                spec.rsplit_once(':').unwrap_or((spec, ""))
            };
            names.push(decode(name));
            ports.push(port.to_string());
        }
        if names.iter().any(|n| !n.is_empty()) {
            settings.push(("host".to_string(), names.join(",")));
        }
        if ports.iter().any(|p| !p.is_empty()) {
            let filled: Vec<&str> = ports
                .iter()
                .map(|p| if p.is_empty() { "5432" } else { p.as_str() })
                .collect();
            settings.push(("port".to_string(), filled.join(",")));
        }
    }
    if !path.is_empty() {
        settings.push(("dbname".to_string(), decode(path)));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode(key), decode(value));
        if key == "ssl" && value == "true" {
            settings.push(("sslmode".to_string(), "require".to_string()));
        } else {
            settings.push((key, value));
        }
    }
    Ok(settings)
}

/// The settings of a `key=value` string (values may be single-quoted, with
/// `\'` and `\\` escapes).
fn parse_key_values(text: &str) -> Result<Vec<(String, String)>, CredentialError> {
    let mut settings = Vec::new();
    let mut chars = text.chars().peekable();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    };
    loop {
        skip_space(&mut chars);
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        skip_space(&mut chars);
        if chars.next() != Some('=') {
            return Err(CredentialError::Unusable(format!("'{key}' has no value")));
        }
        skip_space(&mut chars);
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    None => {
                        return Err(CredentialError::Unusable(format!(
                            "the value of '{key}' has no closing quote"
                        )));
                    }
                    Some('\\') => value.push(chars.next().unwrap_or('\\')),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        settings.push((key, value));
    }
    Ok(settings)
}

/// The settings a connection string gives, in either form.
fn parse_conninfo(text: &str) -> Result<Vec<(String, String)>, CredentialError> {
    let text = text.trim();
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        parse_url(text)
    } else {
        parse_key_values(text)
    }
}

fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Where libpq's default socket is, if a server listens there; else
/// `localhost`.
fn default_host(port: &str) -> String {
    let port = port.split(',').next().unwrap_or("5432");
    ["/var/run/postgresql", "/tmp"]
        .into_iter()
        .find(|dir| Path::new(dir).join(format!(".s.PGSQL.{port}")).exists())
        .unwrap_or("localhost")
        .to_string()
}

/// Completes a PostgreSQL connection from the target, the service file,
/// the environment (`env`) and the password file, in libpq's order.
pub fn resolve_postgres(
    target: &PgTarget,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ResolvedPg, CredentialError> {
    let mut settings: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in parse_conninfo(target.url.as_deref().unwrap_or(""))? {
        settings.insert(key, value);
    }
    let mut password = settings
        .remove("password")
        .map(|p| (p, "the URL".to_string()));
    if password.is_none()
        && let Some(typed) = &target.password
    {
        password = Some((typed.expose().to_string(), "the password given".into()));
    }
    let service = settings
        .remove("service")
        .or_else(|| target.service.clone())
        .or_else(|| env("PGSERVICE"))
        .filter(|s| !s.is_empty());
    if let Some(name) = &service {
        for (key, value) in find_service(name, &service_files(env))? {
            if key == "password" {
                if password.is_none() {
                    password = Some((value, format!("the service \"{name}\"")));
                }
            } else if key != "service" {
                settings.entry(key).or_insert(value);
            }
        }
    }
    for (var, key) in ENV_KEYWORDS {
        if !settings.contains_key(key)
            && let Some(value) = env(var).filter(|v| !v.is_empty())
        {
            settings.insert(key.to_string(), value);
        }
    }
    let port = settings
        .entry("port".into())
        .or_insert_with(|| "5432".into())
        .clone();
    if !settings.contains_key("host") && !settings.contains_key("hostaddr") {
        settings.insert("host".into(), default_host(&port));
    }
    if !settings.contains_key("user")
        && let Some(user) = env("USER").or_else(|| env("LOGNAME"))
    {
        settings.insert("user".into(), user);
    }
    if password.is_none()
        && let Some(pw) = env("PGPASSWORD").filter(|p| !p.is_empty())
    {
        password = Some((pw, "PGPASSWORD".into()));
    }
    let passfile = settings
        .remove("passfile")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pgpass")));
    let mut notes = Vec::new();
    if password.is_none()
        && let Some(file) = passfile
    {
        match read_pgpass(&file) {
            Ok(Some(entries)) => {
                let first = |key: &str| {
                    settings
                        .get(key)
                        .and_then(|v| v.split(',').next())
                        .unwrap_or("")
                        .to_string()
                };
                let user = first("user");
                let db = settings
                    .get("dbname")
                    .cloned()
                    .unwrap_or_else(|| user.clone());
                let host = settings
                    .get("host")
                    .map(|_| first("host"))
                    .unwrap_or_else(|| first("hostaddr"));
                if let Some(pw) = lookup(&entries, &host, &first("port"), &db, &user) {
                    password = Some((pw, format!("the password file {}", file.display())));
                }
            }
            Ok(None) => {}
            Err(ignored) => notes.push(ignored.to_string()),
        }
    }
    let conninfo = settings
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(" ");
    let (password, password_from) = match password {
        Some((pw, from)) => (Some(Secret::new(pw)), Some(from)),
        None => (None, None),
    };
    Ok(ResolvedPg {
        conninfo,
        password,
        password_from,
        notes,
    })
}

/// The connection string with its password taken out (what a list of
/// recent connections keeps): `postgres://u:pw@h` -> `postgres://u@h`,
/// `password=...` pairs and `mongodb://u:pw@h` likewise.
pub fn without_password(text: &str) -> String {
    let text = text.trim();
    if let Some(scheme_end) = text.find("://") {
        let start = scheme_end + 3;
        let end = text[start..]
            .find(['/', '?'])
            .map_or(text.len(), |i| start + i);
        let mut out = text.to_string();
        if let Some(at) = text[start..end].rfind('@')
            && let Some(colon) = text[start..start + at].find(':')
        {
            out.replace_range(start + colon..start + at, "");
        }
        if let Some((base, query)) = out.clone().split_once('?') {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|p| !p.to_ascii_lowercase().starts_with("password="))
                .collect();
            out = if kept.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", kept.join("&"))
            };
        }
        return out;
    }
    match parse_key_values(text) {
        Ok(settings) => settings
            .iter()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| {
                if v.is_empty() || v.contains([' ', '\'', '\\']) {
                    format!("{k}={}", quote(v))
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => super::redact(text),
    }
}

/// Reads a MongoDB password file: the first line, without its line end.
pub fn read_password_file(path: &Path) -> Result<Secret, CredentialError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredentialError::PasswordFile {
        path: path.to_path_buf(),
        source,
    })?;
    let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if first.is_empty() {
        return Err(CredentialError::EmptyPasswordFile(path.to_path_buf()));
    }
    Ok(Secret::new(first))
}

#[cfg(test)]
mod tests;
