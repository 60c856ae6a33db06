//! PostgreSQL as a [`Dialect`]: shared SQL as written, with `$N` placeholders.

use std::borrow::Cow;

use async_trait::async_trait;
use sqlx::{
    Postgres, Row,
    postgres::{PgArguments, PgConnection, PgRow},
    query::Query,
};

use crate::{
    StoreResult,
    dialect::{Column, Dialect, Record, Value},
    sql::for_postgres,
};

impl Record for PgRow {
    fn value<T: Column>(&self, column: &str) -> StoreResult<T> {
        Ok(self.try_get(column)?)
    }

    fn value_at<T: Column>(&self, index: usize) -> StoreResult<T> {
        Ok(self.try_get(index)?)
    }
}

#[async_trait]
impl Dialect for Postgres {
    type Db = Postgres;
    type Row = PgRow;
    type Query = Query<'static, Postgres, PgArguments>;

    fn query(sql: Cow<'static, str>) -> Self::Query {
        sqlx::query(for_postgres(sql))
    }

    fn bind<'q, T: Value<'q>>(query: Self::Query, value: T) -> Self::Query {
        query.bind(value)
    }

    async fn execute(conn: &mut PgConnection, query: Self::Query) -> StoreResult<u64> {
        Ok(query.execute(conn).await?.rows_affected())
    }

    async fn fetch_all(conn: &mut PgConnection, query: Self::Query) -> StoreResult<Vec<PgRow>> {
        Ok(query.fetch_all(conn).await?)
    }

    async fn fetch_optional(
        conn: &mut PgConnection,
        query: Self::Query,
    ) -> StoreResult<Option<PgRow>> {
        Ok(query.fetch_optional(conn).await?)
    }

    async fn fetch_one(conn: &mut PgConnection, query: Self::Query) -> StoreResult<PgRow> {
        Ok(query.fetch_one(conn).await?)
    }
}
