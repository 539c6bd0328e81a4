//! The numbered schema steps, run inside the browser's upgrade transaction.

use super::*;

/// Runs in the browser's upgrade transaction: migrates, or aborts the upgrade
/// and says why.
pub(super) fn upgrade(event: &VersionChangeEvent) -> Result<(), String> {
    let old_version = event.old_version().map_err(|e| idb_reason(&e))?;
    let request = event.target().map_err(|e| idb_reason(&e))?;
    let db = request.database().map_err(|e| idb_reason(&e))?;
    migrate(&db, old_version).map_err(|e| {
        let reason = idb_reason(&e);
        if let Some(tx) = request.transaction() {
            // If the abort itself fails the upgrade is over anyway; the open
            // request then fails or succeeds on its own, and `reason` is
            // reported either way.
            let _ = tx.abort();
        }
        reason
    })
}

/// Brings a database from `old_version` to [`SCHEMA_VERSION`], one step at a
/// time, inside the browser's upgrade transaction (which keeps it all or
/// nothing). Each step runs once: a database opened at version N skips the
/// steps up to N.
pub(super) fn migrate(db: &Database, old_version: u32) -> Result<(), idb::Error> {
    if old_version < 1 {
        db.create_object_store(META_STORE, ObjectStoreParams::new())?;
    }
    if old_version < 2 {
        let keyed_by = |field: &str| {
            let mut params = ObjectStoreParams::new();
            params.key_path(Some(KeyPath::new_single(field)));
            params
        };
        let messages = db.create_object_store(MESSAGES_STORE, keyed_by("id"))?;
        messages.create_index(TIMELINE_INDEX, KeyPath::new_array(["conv", "id"]), None)?;
        db.create_object_store(OUTBOX_STORE, keyed_by("cid"))?;
        db.create_object_store(CONVERSATIONS_STORE, keyed_by("peer"))?;
    }
    if old_version < 3 {
        db.create_object_store(UPLOAD_FILES_STORE, ObjectStoreParams::new())?;
        db.create_object_store(DOWNLOADS_STORE, ObjectStoreParams::new())?;
    }
    Ok(())
}
