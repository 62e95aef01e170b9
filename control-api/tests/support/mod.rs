//! Test stores: a fresh SQLite file and a fresh PostgreSQL schema per test, so every storage
//! test runs against both real databases.
//!
//! PostgreSQL comes from `VOXGATE_TEST_POSTGRES_URL` (default
//! `postgres://postgres:voxgate@127.0.0.1:5432/test`, as `.ci/run` starts it). A missing server is
//! a test failure, not a skip: the suite promises both backends.

#![allow(dead_code, unreachable_pub)]

pub mod app;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Executor as _;
use voxgate_control_api::store::{SqlStore, Store};

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    std::env::var("VOXGATE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres:voxgate@127.0.0.1:5432/test".to_owned())
}

/// One test database: dropped by [`TestDb::finish`].
pub struct TestDb {
    pub name: &'static str,
    pub store: Arc<SqlStore>,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Closes the store and drops the PostgreSQL schema.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(schema) = self.schema {
            let admin = admin().await;
            admin
                .execute(&*format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .await
                .expect("drop schema");
            admin.close().await;
        }
    }
}

async fn admin() -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&postgres_url())
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {} is not reachable ({e}); .ci/run starts it, or set \
                 VOXGATE_TEST_POSTGRES_URL",
                postgres_url()
            )
        })
}

/// A fresh SQLite database in a temp dir.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqlStore::open_sqlite(&dir.path().join("voxgate.db"))
        .await
        .expect("open sqlite");
    TestDb {
        name: "sqlite",
        store: Arc::new(store),
        schema: None,
        _dir: Some(dir),
    }
}

/// A fresh schema in the test PostgreSQL.
pub async fn postgres() -> TestDb {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "vgt_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        voxgate_control_api::ids::now_ms() % 1_000_000
    );
    let admin = admin().await;
    admin
        .execute(&*format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    admin.close().await;
    let base = postgres_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let store = SqlStore::connect(&url).await.expect("connect postgres");
    TestDb {
        name: "postgres",
        store: Arc::new(store),
        schema: Some(schema),
        _dir: None,
    }
}

/// Both backends, fresh.
pub async fn both() -> [TestDb; 2] {
    [sqlite().await, postgres().await]
}

/// 2026-12-07T23:59:59Z in Unix milliseconds: where the manual-clock tests start, one
/// second before a UTC day ends.
pub const A_SECOND_TO_MIDNIGHT_MS: i64 = 1_796_687_999_000;
