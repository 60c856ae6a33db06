//! SQLite as a [`Dialect`]: shared SQL with `?N` placeholders (see `sql::for_sqlite`).

use std::borrow::Cow;

use async_trait::async_trait;
use sqlx::{
    Row, Sqlite,
    query::Query,
    sqlite::{SqliteArguments, SqliteConnection, SqliteRow},
};

use crate::{
    StoreResult,
    dialect::{Column, Dialect, Record, Value},
    sql::for_sqlite,
};

impl Record for SqliteRow {
    fn value<T: Column>(&self, column: &str) -> StoreResult<T> {
        Ok(self.try_get(column)?)
    }

    fn value_at<T: Column>(&self, index: usize) -> StoreResult<T> {
        Ok(self.try_get(index)?)
    }
}

#[async_trait]
impl Dialect for Sqlite {
    type Db = Sqlite;
    type Row = SqliteRow;
    type Query = Query<'static, Sqlite, SqliteArguments>;

    fn query(sql: Cow<'static, str>) -> Self::Query {
        sqlx::query(for_sqlite(sql))
    }

    fn bind<'q, T: Value<'q>>(query: Self::Query, value: T) -> Self::Query {
        query.bind(value)
    }

    async fn execute(conn: &mut SqliteConnection, query: Self::Query) -> StoreResult<u64> {
        Ok(query.execute(conn).await?.rows_affected())
    }

    async fn fetch_all(
        conn: &mut SqliteConnection,
        query: Self::Query,
    ) -> StoreResult<Vec<SqliteRow>> {
        Ok(query.fetch_all(conn).await?)
    }

    async fn fetch_optional(
        conn: &mut SqliteConnection,
        query: Self::Query,
    ) -> StoreResult<Option<SqliteRow>> {
        Ok(query.fetch_optional(conn).await?)
    }

    async fn fetch_one(conn: &mut SqliteConnection, query: Self::Query) -> StoreResult<SqliteRow> {
        Ok(query.fetch_one(conn).await?)
    }
}
