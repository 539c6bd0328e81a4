//! The company directory: departments, jobs, accounts.

use super::{presence_from, user_id};
use crate::store::StoreError;
use crate::store::db::{Db, params};
use penpen_core::packets::directory::{Contact, Directory};
use penpen_core::{DepartmentId, JobId, State, UserId};
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
pub fn put_department(conn: &Db<'_>, id: DepartmentId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO departments (id, name) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        params![id.0 as i64, name],
    )?;
    Ok(())
}

/// Creates or renames a job.
pub fn put_job(conn: &Db<'_>, id: JobId, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO jobs (id, name) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        params![id.0 as i64, name],
    )?;
    Ok(())
}

/// Creates a user; refuses an account that exists or an unknown department or job.
pub fn add_user(conn: &Db<'_>, user: &NewUser) -> Result<(), StoreError> {
    if user_exists(conn, &user.id)? {
        return Err(StoreError::refused(
            State::BAD_PACKET,
            format!("user {} already exists", user.id),
        ));
    }
    let known = |table: &str, id: u64| -> Result<bool, StoreError> {
        let sql = format!("SELECT 1 FROM {table} WHERE id = ?1");
        Ok(conn
            .query_opt(&sql, params![id as i64], |_| Ok(()))?
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
pub fn user_exists(conn: &Db<'_>, user: &UserId) -> Result<bool, StoreError> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM users WHERE id = ?1",
            params![user.as_str()],
            |_| Ok(()),
        )?
        .is_some())
}

/// How many accounts exist.
pub fn user_count(conn: &Db<'_>) -> Result<u64, StoreError> {
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM users", params![], |row| row.get(0))?;
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
pub fn account(conn: &Db<'_>, user: &UserId) -> Result<Option<Account>, StoreError> {
    conn.query_opt(
        "SELECT password_hash, name, broadcaster FROM users WHERE id = ?1",
        params![user.as_str()],
        |row| {
            Ok(Account {
                password_hash: row.get(0)?,
                name: row.get(1)?,
                broadcaster: row.get(2)?,
            })
        },
    )
}

/// The whole directory.
pub fn directory(conn: &Db<'_>) -> Result<Directory, StoreError> {
    let mut departments = BTreeMap::new();
    for row in conn.query_all(
        "SELECT id, name FROM departments ORDER BY id",
        params![],
        |row| Ok((row.get::<i64>(0)?, row.get::<String>(1)?)),
    )? {
        let (id, name) = row;
        departments.insert(DepartmentId(id as u64), name);
    }
    let mut jobs = BTreeMap::new();
    for row in conn.query_all("SELECT id, name FROM jobs ORDER BY id", params![], |row| {
        Ok((row.get::<i64>(0)?, row.get::<String>(1)?))
    })? {
        let (id, name) = row;
        jobs.insert(JobId(id as u64), name);
    }
    let contacts = conn.query_all(
        "SELECT id, name, department, job, signing, presence FROM users ORDER BY department, id",
        params![],
        |row| {
            Ok(Contact {
                user: user_id(row.get(0)?)?,
                name: row.get(1)?,
                department: DepartmentId(row.get::<i64>(2)? as u64),
                job: JobId(row.get::<i64>(3)? as u64),
                signing: row.get(4)?,
                presence: presence_from(&row.get::<String>(5)?),
            })
        },
    )?;
    Ok(Directory {
        state: State::SUCCESS,
        departments,
        jobs,
        contacts,
    })
}
