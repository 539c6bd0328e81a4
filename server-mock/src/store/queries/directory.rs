//! The company directory: departments, jobs, accounts.

use super::{presence_from, user_id};
use crate::store::StoreError;
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::{DepartmentId, JobId, State, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The account.
    pub id: UserId,
    /// The display name.
    pub name: String,
    /// The department number.
    pub department: DepartmentId,
    /// The job number.
    pub job: JobId,
    /// Argon2 hash of the password digest.
    pub password_hash: String,
    /// The initial signature.
    pub signing: String,
    /// Whether the user may send broadcasts.
    pub broadcaster: bool,
}

/// Creates or renames a department.
pub fn put_department(conn: &Connection, id: DepartmentId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO departments (id, name) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        params![id.0 as i64, name],
    )?;
    Ok(())
}

/// Creates or renames a job.
pub fn put_job(conn: &Connection, id: JobId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO jobs (id, name) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        params![id.0 as i64, name],
    )?;
    Ok(())
}

/// Creates a user; refuses an account that exists or an unknown department or job.
pub fn add_user(conn: &Connection, user: &NewUser) -> Result<(), StoreError> {
    if user_exists(conn, &user.id)? {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("user {} already exists", user.id),
        ));
    }
    let known = |table: &str, id: u64| -> Result<bool, StoreError> {
        let sql = format!("SELECT 1 FROM {table} WHERE id = ?1");
        Ok(conn
            .query_row(&sql, params![id as i64], |_| Ok(()))
            .optional()?
            .is_some())
    };
    if !known("departments", user.department.0)? {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("department {} does not exist", user.department),
        ));
    }
    if !known("jobs", user.job.0)? {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("job {} does not exist", user.job),
        ));
    }
    conn.execute(
        "INSERT INTO users (id, name, department, job, password_hash, signing, broadcaster)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user.id.as_str(),
            user.name,
            user.department.0 as i64,
            user.job.0 as i64,
            user.password_hash,
            user.signing,
            user.broadcaster
        ],
    )?;
    Ok(())
}

/// Whether the account exists.
pub fn user_exists(conn: &Connection, user: &UserId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1")?
        .query_row([user.as_str()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// How many accounts exist.
pub fn user_count(conn: &Connection) -> Result<u64, StoreError> {
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
    Ok(count as u64)
}

/// What login needs to know about an account.
#[derive(Debug, Clone)]
pub struct Account {
    /// Argon2 hash of the password digest.
    pub password_hash: String,
    /// The display name.
    pub name: String,
    /// Whether the user may broadcast.
    pub broadcaster: bool,
}

/// The account, if it exists.
pub fn account(conn: &Connection, user: &UserId) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT password_hash, name, broadcaster FROM users WHERE id = ?1",
            [user.as_str()],
            |row| {
                Ok(Account {
                    password_hash: row.get(0)?,
                    name: row.get(1)?,
                    broadcaster: row.get(2)?,
                })
            },
        )
        .optional()?)
}

/// The whole directory.
pub fn directory(conn: &Connection) -> Result<Directory, StoreError> {
    let mut departments = BTreeMap::new();
    let mut statement = conn.prepare_cached("SELECT id, name FROM departments ORDER BY id")?;
    for row in statement.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })? {
        let (id, name) = row?;
        departments.insert(DepartmentId(id as u64), name);
    }
    let mut jobs = BTreeMap::new();
    let mut statement = conn.prepare_cached("SELECT id, name FROM jobs ORDER BY id")?;
    for row in statement.query_map([], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
    })? {
        let (id, name) = row?;
        jobs.insert(JobId(id as u64), name);
    }
    let mut statement = conn.prepare_cached(
        "SELECT id, name, department, job, signing, presence FROM users ORDER BY department, id",
    )?;
    let contacts = statement
        .query_map([], |row| {
            Ok(Contact {
                user: user_id(row.get(0)?)?,
                name: row.get(1)?,
                department: DepartmentId(row.get::<_, i64>(2)? as u64),
                job: JobId(row.get::<_, i64>(3)? as u64),
                signing: row.get(4)?,
                presence: presence_from(&row.get::<_, String>(5)?),
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Directory {
        state: State::SUCCESS,
        departments,
        jobs,
        contacts,
    })
}
