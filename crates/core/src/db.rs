//! The profile's SQLite database (sqlx, with migrations), shared by the library, the catalog
//! cache and search index, and the settings; each domain keeps its own queries.

use std::path::Path;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};

use crate::error::Result;

/// Opens (creating and migrating) the database at `path`.
pub(crate) async fn open(path: &Path) -> Result<SqlitePool> {
    // Made owner-only before SQLite opens it; its -wal and -shm files take the same mode.
    marquee_protocol::private_fs::create_file(path)?;
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(10));
    let db = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await
        .with_context(|| format!("opening the library at {}", path.display()))?;
    sqlx::migrate!("./migrations")
        .run(&db)
        .await
        .context("migrating the library")?;
    Ok(db)
}

/// Small key/value settings of the profile (the pinned store key, the clock's mark).
#[derive(Clone)]
pub(crate) struct Settings {
    db: SqlitePool,
}

impl Settings {
    pub(crate) fn new(db: SqlitePool) -> Settings {
        Settings { db }
    }

    /// A setting.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.db)
            .await?
            .map(|r| r.get(0)))
    }

    /// Sets a setting.
    pub(crate) async fn set(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.db)
        .await?;
        Ok(())
    }

    /// Removes a setting.
    pub(crate) async fn remove(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(&self.db)
            .await?;
        Ok(())
    }
}
