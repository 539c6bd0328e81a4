//! One database connection as the queries see it, whichever backend holds
//! the data: SQLite (the embedded default) or PostgreSQL (several nodes).
//!
//! The queries are written once, in the SQL both engines accept: numbered
//! parameters (`?1`, rewritten to `$1` for PostgreSQL), `INSERT … ON
//! CONFLICT`, `RETURNING`, `CASE` instead of SQLite's two-argument `MAX`,
//! integers for flags. Where the engines truly differ (the full-text index,
//! the schema's DDL) a query asks [`Db::dialect`].
//!
//! Values cross in one shape, [`Value`] out and [`Column`] back, so each
//! backend converts in one place: PostgreSQL is strict about types (an
//! `int4` column is not an `i64`), so parameters are encoded as the type
//! the server inferred for them, and columns of any integer type read as
//! integers.

use super::StoreError;
use std::cell::RefCell;
use std::collections::HashMap;

/// Which SQL engine a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (bundled).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A parameter's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL.
    Null,
    /// An integer (flags are 0 or 1).
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// Something that can be a query parameter.
pub trait Param {
    /// The value to bind.
    fn value(&self) -> Value<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_param!(i64, i32, i16, u8, u16, u32, u64, usize);

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl Param for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(value) => value.value(),
            None => Value::Null,
        }
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

/// The parameters of a query, in order: `params![a, b]`.
#[macro_export]
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::db::Param] };
    ($($value:expr),+ $(,)?) => { &[$(&$value as &dyn $crate::store::db::Param),+] as &[&dyn $crate::store::db::Param] };
}
pub use params;

/// A column's value as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnValue<'a> {
    /// SQL NULL.
    Null,
    /// Any integer (and a PostgreSQL boolean, as 0 or 1).
    Int(i64),
    /// A floating point number.
    Real(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

/// Something a column can be read as.
pub trait Column: Sized {
    /// Converts the column's value, or says what it was instead.
    fn from_column(value: ColumnValue<'_>) -> Result<Self, String>;
}

fn wrong(expected: &str, value: ColumnValue<'_>) -> String {
    format!("expected {expected}, found {value:?}")
}

macro_rules! int_column {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_column(value: ColumnValue<'_>) -> Result<Self, String> {
                match value {
                    ColumnValue::Int(n) => <$t>::try_from(n)
                        .map_err(|_| format!("{n} does not fit {}", stringify!($t))),
                    other => Err(wrong(stringify!($t), other)),
                }
            }
        }
    )*};
}
int_column!(i64, i32, u8, u16, u32, u64, usize);

impl Column for bool {
    fn from_column(value: ColumnValue<'_>) -> Result<Self, String> {
        match value {
            ColumnValue::Int(n) => Ok(n != 0),
            other => Err(wrong("a flag", other)),
        }
    }
}

impl Column for f64 {
    fn from_column(value: ColumnValue<'_>) -> Result<Self, String> {
        match value {
            ColumnValue::Real(x) => Ok(x),
            ColumnValue::Int(n) => Ok(n as f64),
            other => Err(wrong("a number", other)),
        }
    }
}

impl Column for String {
    fn from_column(value: ColumnValue<'_>) -> Result<Self, String> {
        match value {
            ColumnValue::Text(text) => Ok(text.to_owned()),
            other => Err(wrong("text", other)),
        }
    }
}

impl Column for Vec<u8> {
    fn from_column(value: ColumnValue<'_>) -> Result<Self, String> {
        match value {
            ColumnValue::Blob(bytes) => Ok(bytes.to_vec()),
            other => Err(wrong("bytes", other)),
        }
    }
}

impl<T: Column> Column for Option<T> {
    fn from_column(value: ColumnValue<'_>) -> Result<Self, String> {
        match value {
            ColumnValue::Null => Ok(None),
            other => T::from_column(other).map(Some),
        }
    }
}

/// A value of any type, owned: a column read and written back as it is
/// (copying a database from one backend to the other).
#[derive(Debug, Clone, PartialEq)]
pub enum AnyValue {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A floating point number, sent as its integer part (the schema has none).
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Column for AnyValue {
    fn from_column(value: ColumnValue<'_>) -> Result<Self, String> {
        Ok(match value {
            ColumnValue::Null => AnyValue::Null,
            ColumnValue::Int(n) => AnyValue::Int(n),
            ColumnValue::Real(x) => AnyValue::Real(x),
            ColumnValue::Text(text) => AnyValue::Text(text.to_owned()),
            ColumnValue::Blob(bytes) => AnyValue::Blob(bytes.to_vec()),
        })
    }
}

impl Param for AnyValue {
    fn value(&self) -> Value<'_> {
        match self {
            AnyValue::Null => Value::Null,
            AnyValue::Int(n) => Value::Int(*n),
            AnyValue::Real(x) => Value::Int(*x as i64),
            AnyValue::Text(text) => Value::Text(text),
            AnyValue::Blob(bytes) => Value::Blob(bytes),
        }
    }
}

/// One row of a result.
pub enum Row<'r, 's> {
    /// A SQLite row.
    Sqlite(&'r rusqlite::Row<'s>),
    /// A PostgreSQL row.
    Postgres(&'r postgres::Row),
}

impl std::fmt::Debug for Row<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Row")
    }
}

impl Row<'_, '_> {
    /// Column `index` (from 0) as a `T`.
    pub fn get<T: Column>(&self, index: usize) -> Result<T, StoreError> {
        let converted = match self {
            Row::Sqlite(row) => {
                let value = row.get_ref(index).map_err(StoreError::from)?;
                T::from_column(match value {
                    rusqlite::types::ValueRef::Null => ColumnValue::Null,
                    rusqlite::types::ValueRef::Integer(n) => ColumnValue::Int(n),
                    rusqlite::types::ValueRef::Real(x) => ColumnValue::Real(x),
                    rusqlite::types::ValueRef::Text(bytes) => {
                        ColumnValue::Text(std::str::from_utf8(bytes).map_err(|e| {
                            StoreError::Database(format!("column {index} is not UTF-8: {e}"))
                        })?)
                    }
                    rusqlite::types::ValueRef::Blob(bytes) => ColumnValue::Blob(bytes),
                })
            }
            Row::Postgres(row) => postgres_column(row, index)?,
        };
        converted.map_err(|e| StoreError::Database(format!("column {index}: {e}")))
    }
}

fn postgres_column<T: Column>(
    row: &postgres::Row,
    index: usize,
) -> Result<Result<T, String>, StoreError> {
    use postgres::types::Type;
    let Some(column) = row.columns().get(index) else {
        return Err(StoreError::Database(format!(
            "column {index} is not in the result"
        )));
    };
    let ty = column.type_().clone();
    let failed = |e: postgres::Error| StoreError::Database(format!("column {index}: {e}"));
    let value = if ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(index)
            .map_err(failed)?
            .map(ColumnValue::Int)
    } else if ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(index)
            .map_err(failed)?
            .map(|n| ColumnValue::Int(n.into()))
    } else if ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(index)
            .map_err(failed)?
            .map(|n| ColumnValue::Int(n.into()))
    } else if ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(index)
            .map_err(failed)?
            .map(|b| ColumnValue::Int(b.into()))
    } else if ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(index)
            .map_err(failed)?
            .map(ColumnValue::Real)
    } else if ty == Type::BYTEA {
        let bytes = row.try_get::<_, Option<&[u8]>>(index).map_err(failed)?;
        return Ok(T::from_column(
            bytes.map_or(ColumnValue::Null, ColumnValue::Blob),
        ));
    } else {
        let text = row.try_get::<_, Option<&str>>(index).map_err(failed)?;
        return Ok(T::from_column(
            text.map_or(ColumnValue::Null, ColumnValue::Text),
        ));
    };
    Ok(T::from_column(value.unwrap_or(ColumnValue::Null)))
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(n) => ValueRef::Integer(n),
            Value::Text(text) => ValueRef::Text(text.as_bytes()),
            Value::Blob(bytes) => ValueRef::Blob(bytes),
        }))
    }
}

/// A parameter encoded as the type PostgreSQL inferred for it.
#[derive(Debug)]
struct PgParam<'a>(Value<'a>);

impl postgres::types::ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::{IsNull, Type};
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => {
                if *ty == Type::INT8 {
                    n.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(n)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(n)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (n != 0).to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (n as f64).to_sql(ty, out)
                } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                    n.to_string().as_str().to_sql(ty, out)
                } else {
                    Err(format!("cannot send an integer as {ty}").into())
                }
            }
            Value::Text(text) => text.to_sql(ty, out),
            Value::Blob(bytes) => bytes.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A PostgreSQL connection with its prepared statements.
pub struct PgConnection {
    /// Always `Some` but while dropping (see the `Drop` below).
    client: RefCell<Option<postgres::Client>>,
    /// Statements by their SQL as the queries write it.
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

impl std::fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgConnection")
    }
}

impl PgConnection {
    /// Connects to `url` (`postgres://user@host:port/database`).
    pub fn connect(url: &str) -> Result<PgConnection, StoreError> {
        let client = postgres::Client::connect(url, postgres::NoTls).map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to PostgreSQL at {}: {e}",
                redact(url)
            ))
        })?;
        Ok(PgConnection {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
        })
    }

    fn client(&self) -> Result<std::cell::RefMut<'_, postgres::Client>, StoreError> {
        std::cell::RefMut::filter_map(self.client.borrow_mut(), Option::as_mut)
            .map_err(|_| StoreError::Closed)
    }

    /// Runs `sql` (several statements, no parameters).
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.client()?.batch_execute(sql).map_err(StoreError::from)
    }

    /// Whether the connection is gone (the server closed it).
    pub fn is_closed(&self) -> bool {
        self.client().map_or(true, |client| client.is_closed())
    }

    fn statement(&self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client()?
            .prepare(&numbered_parameters(sql))
            .map_err(StoreError::from)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn query(&self, sql: &str, params: &[&dyn Param]) -> Result<Vec<postgres::Row>, StoreError> {
        let statement = self.statement(sql)?;
        let values = pg_values(params);
        self.client()?
            .query(&statement, &pg_refs(&values))
            .map_err(StoreError::from)
    }

    fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        let values = pg_values(params);
        self.client()?
            .execute(&statement, &pg_refs(&values))
            .map_err(StoreError::from)
    }
}

fn pg_values<'a>(params: &'a [&dyn Param]) -> Vec<PgParam<'a>> {
    params.iter().map(|p| PgParam(p.value())).collect()
}

fn pg_refs<'a>(values: &'a [PgParam<'_>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

impl Drop for PgConnection {
    /// The synchronous client blocks on a runtime of its own when it
    /// closes, which panics on a thread of an async runtime (a store
    /// dropped by async code): there it is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let _ = std::thread::Builder::new()
                .name("penpen-pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl From<postgres::Error> for StoreError {
    fn from(err: postgres::Error) -> StoreError {
        // The server's own message says what was wrong (a constraint, a
        // type); the client library's Display alone says only "db error".
        match err.as_db_error() {
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            None => StoreError::Database(err.to_string()),
        }
    }
}

/// `sql` with SQLite's `?N` parameters written as PostgreSQL's `$N` (a
/// bare `?` is numbered in order). Quoted strings and identifiers are left
/// alone.
pub fn numbered_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    let mut next = 1;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                out.push('$');
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            None => out.push(c),
        }
    }
    out
}

/// A connection of either backend, inside the caller's transaction (a
/// write) or on its own (a read).
#[derive(Debug, Clone, Copy)]
pub enum Db<'c> {
    /// SQLite.
    Sqlite(&'c rusqlite::Connection),
    /// PostgreSQL.
    Postgres(&'c PgConnection),
}

impl Db<'_> {
    /// The engine's SQL dialect.
    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; returns how many rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn Param]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(conn) => {
                let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
                let changed = conn.execute(sql, rusqlite::params_from_iter(values.iter()))?;
                Ok(changed as u64)
            }
            Db::Postgres(conn) => conn.execute(sql, params),
        }
    }

    /// Every row of a query, each read by `read`.
    pub fn query_all<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut read: impl FnMut(&Row<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Db::Sqlite(conn) => {
                let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    out.push(read(&Row::Sqlite(row))?);
                }
                Ok(out)
            }
            Db::Postgres(conn) => conn
                .query(sql, params)?
                .iter()
                .map(|row| read(&Row::Postgres(row)))
                .collect(),
        }
    }

    /// The first row of a query, if there is one.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut read: impl FnMut(&Row<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        match self {
            Db::Sqlite(conn) => {
                let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
                let mut statement = conn.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
                match rows.next()? {
                    Some(row) => read(&Row::Sqlite(row)).map(Some),
                    None => Ok(None),
                }
            }
            Db::Postgres(conn) => match conn.query(sql, params)?.first() {
                Some(row) => read(&Row::Postgres(row)).map(Some),
                None => Ok(None),
            },
        }
    }

    /// The first row of a query that always has one (an aggregate, a
    /// `RETURNING`, a row the caller knows exists).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        read: impl FnMut(&Row<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.query_opt(sql, params, read)?.ok_or_else(|| {
            StoreError::Database(format!(
                "expected a row and found none: {}",
                sql.split_whitespace().collect::<Vec<_>>().join(" ")
            ))
        })
    }

    /// Whether a query has any row.
    pub fn exists(&self, sql: &str, params: &[&dyn Param]) -> Result<bool, StoreError> {
        Ok(self.query_opt(sql, params, |_| Ok(()))?.is_some())
    }

    /// Runs several statements without parameters (schema changes).
    pub fn execute_batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(conn) => conn.execute_batch(sql).map_err(StoreError::from),
            Db::Postgres(conn) => conn.batch(sql),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_for_postgres_outside_quotes() {
        assert_eq!(
            numbered_parameters(
                "SELECT a FROM t WHERE b = ?2 AND c = ?1 AND d = '?3' AND \"?\" = ?"
            ),
            "SELECT a FROM t WHERE b = $2 AND c = $1 AND d = '?3' AND \"?\" = $1"
        );
    }

    #[test]
    fn a_url_loses_its_password_in_messages() {
        assert_eq!(
            redact("postgres://penpen:secret@db.internal:5432/penpen"),
            "postgres://penpen:***@db.internal:5432/penpen"
        );
        assert_eq!(
            redact("postgres://penpen@db/penpen"),
            "postgres://penpen@db/penpen"
        );
    }

    #[test]
    fn sqlite_values_round_trip_through_rows() {
        let conn = rusqlite::Connection::open_in_memory().expect("memory db");
        let db = Db::Sqlite(&conn);
        db.execute_batch("CREATE TABLE t (n INTEGER, s TEXT, b BLOB, f INTEGER)")
            .expect("table");
        let none: Option<i64> = None;
        db.execute(
            "INSERT INTO t (n, s, b, f) VALUES (?1, ?2, ?3, ?4), (?5, NULL, NULL, 0)",
            params![7u32, "周报", vec![1u8, 2], true, none],
        )
        .expect("inserted");
        let rows = db
            .query_all(
                "SELECT n, s, b, f FROM t ORDER BY n NULLS LAST",
                params![],
                |row| {
                    Ok((
                        row.get::<Option<u64>>(0)?,
                        row.get::<Option<String>>(1)?,
                        row.get::<Option<Vec<u8>>>(2)?,
                        row.get::<bool>(3)?,
                    ))
                },
            )
            .expect("read");
        assert_eq!(
            rows,
            vec![
                (Some(7), Some("周报".to_owned()), Some(vec![1, 2]), true),
                (None, None, None, false)
            ]
        );
        let err = db
            .query_row("SELECT s FROM t WHERE n = 7", params![], |row| {
                row.get::<i64>(0)
            })
            .expect_err("text is not an integer");
        assert!(err.to_string().contains("expected i64"), "{err}");
        assert!(
            db.query_opt("SELECT 1 FROM t WHERE n = 9", params![], |_| Ok(()))
                .expect("ran")
                .is_none()
        );
    }
}
