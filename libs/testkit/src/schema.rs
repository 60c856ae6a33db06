//! A PostgreSQL schema of one test, dropped (`DROP SCHEMA … CASCADE`) when its guard is — the
//! one place tests drop schemas.

use std::time::Duration;

use sqlx::{Connection as _, PgConnection};

use crate::env::{postgres_url, unique};

/// A schema name of one test; the schema (if it was created) is dropped on drop.
#[derive(Debug)]
pub struct Schema {
    name: String,
}

impl Schema {
    /// A fresh name starting with `prefix` (letters, digits and `_` only).
    pub fn new(prefix: &str) -> Self {
        Self {
            name: unique(prefix),
        }
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Schema {
    /// Drops the schema on a connection of its own, from a thread of its own: the test's pools
    /// may be closed, and the test's runtime may be gone or busy unwinding. A failure is
    /// reported, never a panic (that would abort a failing test's unwinding).
    fn drop(&mut self) {
        let name = std::mem::take(&mut self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&postgres_url())
                    .await
                    .map_err(|e| e.to_string())?;
                drop_schema(&mut conn, &name).await
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("test schema left behind: {error}");
        }
    }
}

/// Drops `schema` and everything in it. A test's pool may still hold a transaction the
/// test's own (now blocked) runtime would have rolled back, and background writers (an
/// invocation log, recall tasks) may still hold locks: a drop that waits on a lock longer than a
/// moment, or is chosen as a deadlock victim, ends the sessions holding locks in the schema (the
/// test is over) and tries again.
pub async fn drop_schema(conn: &mut PgConnection, schema: &str) -> Result<(), String> {
    let fail = |error: sqlx::Error| format!("drop schema {schema}: {error}");
    sqlx::query("SET lock_timeout = '1s'")
        .execute(&mut *conn)
        .await
        .map_err(fail)?;
    let statement = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    for attempt in 1.. {
        match sqlx::query(sqlx::AssertSqlSafe(statement.clone()))
            .execute(&mut *conn)
            .await
        {
            Ok(_) => return Ok(()),
            Err(error) if attempt < 5 && waited_on_a_lock(&error) => {
                end_lock_holders(conn, schema).await.map_err(fail)?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => return Err(fail(error)),
        }
    }
    unreachable!("the loop returns")
}

/// Whether `error` is a lock timeout (55P03) or a deadlock (40P01).
fn waited_on_a_lock(error: &sqlx::Error) -> bool {
    let code = error.as_database_error().and_then(|e| e.code());
    matches!(code.as_deref(), Some("55P03" | "40P01"))
}

/// Ends every other session holding a lock on a relation of `schema`.
async fn end_lock_holders(conn: &mut PgConnection, schema: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM (SELECT DISTINCT l.pid FROM pg_locks l \
         JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()) AS holders",
    )
    .bind(schema)
    .execute(conn)
    .await
    .map(drop)
}
