//! Recent connections of the Connect dialog: where, never a password. They
//! are kept in prefs; a password is typed again each time (or comes from
//! `PGPASSWORD`, `~/.pgpass`, a service file, `LEDGERSCOPE_MONGO_PASSWORD`).

use serde::{Deserialize, Serialize};

use crate::store::StoreConfig;
use crate::store::credentials::without_password;

/// How many recent connections are kept.
pub const RECENT_KEPT: usize = 8;

/// One connection that worked, without its passwords.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecentConnection {
    /// The data directory.
    pub data_dir: String,
    /// The MongoDB URI, its password taken out (empty = embedded ledger).
    pub mongo: String,
    /// The PostgreSQL URL or `key=value` string, its password taken out
    /// (empty = embedded views).
    pub postgres: String,
}

impl RecentConnection {
    /// The connection a configuration names, its passwords taken out.
    pub fn of(config: &StoreConfig) -> Self {
        let postgres = match (&config.postgres_url, &config.postgres_service) {
            (Some(url), _) => without_password(url),
            (None, Some(service)) => format!("service={service}"),
            (None, None) => String::new(),
        };
        RecentConnection {
            data_dir: config.data_dir.display().to_string(),
            mongo: config
                .mongo_uri
                .as_deref()
                .map(without_password)
                .unwrap_or_default(),
            postgres,
        }
    }

    /// One line for the dialog's list.
    pub fn label(&self) -> String {
        let part = |text: &str, embedded: &str| {
            if text.is_empty() {
                embedded.to_string()
            } else {
                text.to_string()
            }
        };
        format!(
            "{} · {} · {}",
            part(&self.mongo, "embedded ledger"),
            part(&self.postgres, "embedded views"),
            self.data_dir
        )
    }
}

/// What the Connect dialog's fields show for a configuration: its URIs
/// without passwords (a service as `service=NAME`), and the data dir.
pub fn drafts_of(config: &StoreConfig) -> crate::ui::app::dialogs::ConnectDrafts {
    let entry = RecentConnection::of(config);
    crate::ui::app::dialogs::ConnectDrafts {
        data_dir: entry.data_dir,
        mongo: entry.mongo,
        postgres: entry.postgres,
        ..Default::default()
    }
}

/// The URI a field means: the current one (with the password it was given)
/// when the field still shows it without its password, else the field's
/// text; `None` when empty.
pub fn uri_of_field(field: &str, current: Option<&str>) -> Option<String> {
    let field = field.trim();
    if field.is_empty() {
        return None;
    }
    match current {
        Some(current) if without_password(current) == field => Some(current.to_string()),
        _ => Some(field.to_string()),
    }
}

/// Puts `entry` first (once), keeping at most [`RECENT_KEPT`].
pub fn remember(list: &mut Vec<RecentConnection>, entry: RecentConnection) {
    list.retain(|e| *e != entry);
    list.insert(0, entry);
    list.truncate(RECENT_KEPT);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_connections_keep_no_password_and_stay_short() {
        let mut config = StoreConfig::embedded("/d");
        config.mongo_uri = Some("mongodb://bob:hunter2@h:1/?authSource=admin".into());
        config.postgres_url = Some("host=h user=u password='hunter2'".into());
        let entry = RecentConnection::of(&config);
        assert_eq!(entry.mongo, "mongodb://bob@h:1/?authSource=admin");
        assert_eq!(entry.postgres, "host=h user=u");
        assert!(!serde_json::to_string(&entry).unwrap().contains("hunter2"));
        let mut list = Vec::new();
        for i in 0..10 {
            remember(
                &mut list,
                RecentConnection {
                    data_dir: format!("/d{i}"),
                    ..RecentConnection::default()
                },
            );
        }
        let again = list[3].clone();
        remember(&mut list, again);
        assert_eq!(list.len(), RECENT_KEPT);
        assert_eq!(list[0].data_dir, "/d6");
        assert_eq!(list.iter().filter(|e| e.data_dir == "/d6").count(), 1);
    }
}
