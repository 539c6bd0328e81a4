//! Provisioning: departments, jobs and users, one at a time or imported from
//! a JSON or CSV file. There is no self-registration; an enterprise adds its
//! own accounts.

use crate::auth;
use crate::context::now_ms;
use crate::store::queries::{self, NewUser};
use crate::store::sessions;
use crate::store::{Store, StoreError};
use penpen_core::{DepartmentId, JobId, UserId, digest, limits};
use serde::Deserialize;
use std::path::Path;

/// Why provisioning failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file's content is not what was expected.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: String,
        /// What was wrong and what was expected.
        reason: String,
    },
    /// A value is not valid.
    #[error("{0}")]
    Invalid(String),
    /// The store refused or failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A user to add, as written in an import file or on the command line.
#[derive(Debug, Clone, Deserialize, clap::Args)]
pub struct UserEntry {
    /// The 11-digit account (a mobile number).
    #[arg(long)]
    pub id: String,
    /// The display name.
    #[arg(long)]
    pub name: String,
    /// The department number.
    #[arg(long)]
    pub department: u64,
    /// The job number.
    #[arg(long)]
    pub job: u64,
    /// The initial password (stored only as an Argon2 hash of its md5 digest).
    #[arg(long)]
    pub password: String,
    /// The signature.
    #[serde(default)]
    #[arg(long, default_value = "")]
    pub signing: String,
    /// Whether the user may send company broadcasts.
    #[serde(default)]
    #[arg(long)]
    pub broadcaster: bool,
}

/// A department or job, as written in an import file.
#[derive(Debug, Clone, Deserialize)]
pub struct NamedEntry {
    /// Its number.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// What a JSON import file holds.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Import {
    /// Departments to create or rename.
    #[serde(default)]
    pub departments: Vec<NamedEntry>,
    /// Jobs to create or rename.
    #[serde(default)]
    pub jobs: Vec<NamedEntry>,
    /// Users to add.
    #[serde(default)]
    pub users: Vec<UserEntry>,
}

fn check_name(what: &str, name: &str, max: usize) -> Result<(), AdminError> {
    let len = name.chars().count();
    if name.trim().is_empty() || len > max {
        return Err(AdminError::Invalid(format!(
            "{what} name {name:?} has {len} characters; expected 1 to {max}"
        )));
    }
    Ok(())
}

fn new_user(entry: &UserEntry) -> Result<NewUser, AdminError> {
    let id = UserId::parse(&entry.id).map_err(|e| AdminError::Invalid(e.to_string()))?;
    check_name("user", &entry.name, limits::MAX_PERSON_NAME_CHARS)?;
    if entry.password.is_empty() {
        return Err(AdminError::Invalid(format!(
            "user {id} has an empty password"
        )));
    }
    if entry.signing.chars().count() > limits::MAX_SIGNATURE_CHARS {
        return Err(AdminError::Invalid(format!(
            "user {id}'s signature is longer than {} characters",
            limits::MAX_SIGNATURE_CHARS
        )));
    }
    let hash = auth::hash_password_digest(&digest::password_digest(&entry.password))
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    Ok(NewUser {
        id,
        name: entry.name.clone(),
        department: DepartmentId(entry.department),
        job: JobId(entry.job),
        password_hash: hash,
        signing: entry.signing.clone(),
        broadcaster: entry.broadcaster,
    })
}

/// Creates or renames a department.
pub async fn put_department(store: &Store, id: u64, name: &str) -> Result<(), AdminError> {
    check_name("department", name, limits::MAX_DIRECTORY_NAME_CHARS)?;
    let name = name.to_owned();
    Ok(store
        .write(move |conn| queries::put_department(conn, DepartmentId(id), &name))
        .await?)
}

/// Creates or renames a job.
pub async fn put_job(store: &Store, id: u64, name: &str) -> Result<(), AdminError> {
    check_name("job", name, limits::MAX_DIRECTORY_NAME_CHARS)?;
    let name = name.to_owned();
    Ok(store
        .write(move |conn| queries::put_job(conn, JobId(id), &name))
        .await?)
}

/// Adds a user.
pub async fn add_user(store: &Store, entry: &UserEntry) -> Result<(), AdminError> {
    let user = new_user(entry)?;
    Ok(store
        .write(move |conn| queries::add_user(conn, &user))
        .await?)
}

fn existing_user(id: &str) -> Result<UserId, AdminError> {
    UserId::parse(id).map_err(|e| AdminError::Invalid(e.to_string()))
}

fn unknown(user: &UserId) -> AdminError {
    AdminError::Invalid(format!(
        "no user {user}; expected an existing 11-digit account"
    ))
}

/// Refuses the user's future logins and revokes their sessions; a running
/// server closes their open connections when it next polls the revocation log.
/// Returns how many live sessions were revoked.
pub async fn disable_user(store: &Store, id: &str) -> Result<usize, AdminError> {
    let user = existing_user(id)?;
    let who = user.clone();
    let revoked = store
        .write(move |conn| {
            if !sessions::set_disabled(conn, &who, true)? {
                return Ok(None);
            }
            sessions::revoke_user_sessions(conn, &who, "account disabled", now_ms()).map(Some)
        })
        .await?;
    revoked.ok_or_else(|| unknown(&user))
}

/// Lets a disabled user log in again (their old sessions stay revoked).
pub async fn enable_user(store: &Store, id: &str) -> Result<(), AdminError> {
    let user = existing_user(id)?;
    let who = user.clone();
    let found = store
        .write(move |conn| sessions::set_disabled(conn, &who, false))
        .await?;
    if found { Ok(()) } else { Err(unknown(&user)) }
}

/// Revokes every session of the user (they log in again with the password).
/// Returns how many live sessions were revoked.
pub async fn revoke_sessions(store: &Store, id: &str) -> Result<usize, AdminError> {
    let user = existing_user(id)?;
    let who = user.clone();
    let revoked = store
        .write(move |conn| {
            if sessions::is_disabled(conn, &who)?.is_none() {
                return Ok(None);
            }
            sessions::revoke_user_sessions(conn, &who, "revoked by an administrator", now_ms())
                .map(Some)
        })
        .await?;
    revoked.ok_or_else(|| unknown(&user))
}

/// Imports a JSON file (departments, jobs, users) or a CSV file of users
/// (`id,name,department,job,password,signing,broadcaster`), all or nothing.
/// Returns how many departments, jobs and users it wrote.
pub async fn import(store: &Store, path: &Path) -> Result<(usize, usize, usize), AdminError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AdminError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let import = match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str::<Import>(&text).map_err(|e| AdminError::Format {
            path: shown.clone(),
            reason: format!("{e}; expected {{\"departments\":[…],\"jobs\":[…],\"users\":[…]}}"),
        })?,
        Some("csv") => Import {
            users: parse_csv(&text).map_err(|reason| AdminError::Format {
                path: shown.clone(),
                reason,
            })?,
            ..Import::default()
        },
        _ => {
            return Err(AdminError::Format {
                path: shown,
                reason: "unknown file type; expected a .json or .csv file".into(),
            });
        }
    };
    for entry in import.departments.iter().chain(&import.jobs) {
        check_name("directory", &entry.name, limits::MAX_DIRECTORY_NAME_CHARS)?;
    }
    let users = import
        .users
        .iter()
        .map(new_user)
        .collect::<Result<Vec<_>, _>>()?;
    let counts = (import.departments.len(), import.jobs.len(), users.len());
    store
        .write(move |conn| {
            for d in &import.departments {
                queries::put_department(conn, DepartmentId(d.id), &d.name)?;
            }
            for j in &import.jobs {
                queries::put_job(conn, JobId(j.id), &j.name)?;
            }
            for user in &users {
                queries::add_user(conn, user)?;
            }
            Ok(())
        })
        .await?;
    Ok(counts)
}

/// Reads users from CSV with a header row; fields may be quoted with `"`.
fn parse_csv(text: &str) -> Result<Vec<UserEntry>, String> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).enumerate();
    let Some((_, header)) = lines.next() else {
        return Err("the file is empty; expected a header row id,name,department,job,password,signing,broadcaster".into());
    };
    let header = split_csv_line(header)?;
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let required = ["id", "name", "department", "job", "password"];
    for name in required {
        if column(name).is_none() {
            return Err(format!(
                "the header has no {name:?} column; expected id,name,department,job,password[,signing,broadcaster]"
            ));
        }
    }
    let mut users = Vec::new();
    for (index, line) in lines {
        let row = split_csv_line(line).map_err(|e| format!("line {}: {e}", index + 1))?;
        let field = |name: &str| {
            column(name)
                .and_then(|i| row.get(i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let number = |name: &str| {
            field(name).parse::<u64>().map_err(|_| {
                format!(
                    "line {}: {name} {:?} is not a number",
                    index + 1,
                    field(name)
                )
            })
        };
        users.push(UserEntry {
            id: field("id"),
            name: field("name"),
            department: number("department")?,
            job: number("job")?,
            password: field("password"),
            signing: field("signing"),
            broadcaster: matches!(field("broadcaster").as_str(), "1" | "true" | "yes" | "是"),
        });
    }
    Ok(users)
}

fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut current)),
            (c, _) => current.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    fields.push(current);
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_users_with_quotes_and_chinese() {
        let users = parse_csv(
            "id,name,department,job,password,signing,broadcaster\n\
             13900000001,赵六,1,2,secret,\"你好，世界\",是\n\
             13900000002,钱七,2,3,pw,,0\n",
        )
        .expect("parses");
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].signing, "你好，世界");
        assert!(users[0].broadcaster);
        assert!(!users[1].broadcaster);
        assert!(parse_csv("name,id\n").is_err(), "missing columns are named");
        assert!(parse_csv("id,name,department,job,password\n1,a,x,1,p\n").is_err());
    }
}
