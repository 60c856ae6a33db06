//! The small SQL layer every area is written on, so that one generic implementation serves
//! both backends.
//!
//! A [`Dialect`] is a database the shared SQL (see `sql`, written with PostgreSQL's `$N`
//! placeholders) runs on: it turns the text into its own statement, binds values and runs the
//! statement on a connection. [`Statement`] is the builder areas use, [`Record`] how they read
//! a row, and [`expect_rows`] the one place "0 rows affected" becomes [`StoreError::NotFound`].
//! Only values and columns both databases encode and decode ([`Value`], [`Column`]) are
//! allowed here; backend-specific statements (vectors) stay in the backend.

use std::borrow::Cow;

use async_trait::async_trait;
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};

use crate::{StoreError, StoreResult, sql::Bind};

/// A connection of dialect `D`.
pub(crate) type Conn<D> = <<D as Dialect>::Db as Database>::Connection;

/// A value both databases bind.
pub(crate) trait Value<'q>:
    Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send
{
}

impl<'q, T> Value<'q> for T where
    T: Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send
{
}

/// A column type both databases decode.
pub(crate) trait Column:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

impl<T> Column for T where
    T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}

/// A result row of either database.
pub(crate) trait Record: Send + Sync + 'static {
    /// The value of the named column.
    fn value<T: Column>(&self, column: &str) -> StoreResult<T>;

    /// The value of the column at `index`.
    fn value_at<T: Column>(&self, index: usize) -> StoreResult<T>;
}

/// A database the shared SQL runs on (implemented by `sqlx::Sqlite` and `sqlx::Postgres` in
/// their backend modules).
#[async_trait]
pub(crate) trait Dialect: Send + Sync + 'static {
    /// The sqlx database.
    type Db: Database<Row = Self::Row>;
    /// Its rows.
    type Row: Record;
    /// A statement being bound.
    type Query: Send;

    /// Turns shared SQL into a statement of this database.
    fn query(sql: Cow<'static, str>) -> Self::Query;

    /// Binds the next placeholder.
    fn bind<'q, T: Value<'q>>(query: Self::Query, value: T) -> Self::Query;

    /// Runs a statement; returns the rows it affected.
    async fn execute(conn: &mut Conn<Self>, query: Self::Query) -> StoreResult<u64>;

    /// Runs a query; returns every row.
    async fn fetch_all(conn: &mut Conn<Self>, query: Self::Query) -> StoreResult<Vec<Self::Row>>;

    /// Runs a query; returns its first row, if any.
    async fn fetch_optional(
        conn: &mut Conn<Self>,
        query: Self::Query,
    ) -> StoreResult<Option<Self::Row>>;

    /// Runs a query; returns its first row (none is an error).
    async fn fetch_one(conn: &mut Conn<Self>, query: Self::Query) -> StoreResult<Self::Row>;
}

/// A statement of shared SQL for dialect `D`, being bound, then run.
pub(crate) struct Statement<D: Dialect>(D::Query);

/// Starts a statement of shared SQL.
pub(crate) fn query<D: Dialect>(sql: impl Into<Cow<'static, str>>) -> Statement<D> {
    Statement(D::query(sql.into()))
}

impl<D: Dialect> Statement<D> {
    /// Binds the next placeholder.
    pub(crate) fn bind<'q, T: Value<'q>>(self, value: T) -> Self {
        Self(D::bind(self.0, value))
    }

    /// Binds the values of a dynamically built condition, in order.
    pub(crate) fn bind_all(self, binds: Vec<Bind>) -> Self {
        binds.into_iter().fold(self, |query, bind| match bind {
            Bind::Text(text) => query.bind(text),
            Bind::Int(int) => query.bind(int),
        })
    }

    /// Runs it; returns the rows it affected.
    pub(crate) async fn execute(self, conn: &mut Conn<D>) -> StoreResult<u64> {
        D::execute(conn, self.0).await
    }

    /// Runs it and requires it to affect a row (see [`expect_rows`]).
    pub(crate) async fn execute_expecting(
        self,
        conn: &mut Conn<D>,
        what: impl FnOnce() -> String + Send,
    ) -> StoreResult<u64> {
        expect_rows(self.execute(conn).await?, what)
    }

    /// Runs it; returns every row.
    pub(crate) async fn fetch_all(self, conn: &mut Conn<D>) -> StoreResult<Vec<D::Row>> {
        D::fetch_all(conn, self.0).await
    }

    /// Runs it; returns its first row, if any.
    pub(crate) async fn fetch_optional(self, conn: &mut Conn<D>) -> StoreResult<Option<D::Row>> {
        D::fetch_optional(conn, self.0).await
    }

    /// Runs it; returns its first row (none is an error).
    pub(crate) async fn fetch_one(self, conn: &mut Conn<D>) -> StoreResult<D::Row> {
        D::fetch_one(conn, self.0).await
    }
}

/// The store's one "expected rows" check: a write that affected no row addressed something
/// that does not exist (or is another user's), [`StoreError::NotFound`] naming `what`.
pub(crate) fn expect_rows(affected: u64, what: impl FnOnce() -> String) -> StoreResult<u64> {
    expect_row((affected > 0).then_some(affected), what)
}

/// The same check for a read or `RETURNING` write that must find its row.
pub(crate) fn expect_row<T>(row: Option<T>, what: impl FnOnce() -> String) -> StoreResult<T> {
    row.ok_or_else(|| StoreError::NotFound { what: what() })
}
