//! Batches and values as the records IndexedDB stores: key fields plus the
//! `json` serde wrote.

use super::*;

/// A batch, turned into the records it writes, in the order the in-memory
/// cache applies it.
pub(super) struct Records {
    /// Conversations whose messages go, as `timeline` key ranges.
    clear: Vec<KeyRange>,
    messages: Vec<JsValue>,
    outbox_delete: Vec<JsValue>,
    outbox_put: Vec<JsValue>,
    conversations: Vec<JsValue>,
    /// `meta` keys and their JSON text.
    meta: Vec<(&'static str, JsValue)>,
    /// Recalls, with the `timeline` range they may touch: the original and
    /// what came after it (only later messages can quote it).
    recalls: Vec<(KeyRange, RecallMark)>,
}

impl Records {
    pub(super) fn of(batch: &CacheBatch) -> Result<Records, CacheError> {
        let write_error = |e: idb::Error| idb_error("write", &e);
        let mut meta = Vec::new();
        if let Some(account) = &batch.meta {
            meta.push((ACCOUNT_KEY, JsValue::from_str(&to_json(account)?)));
        }
        if let Some(directory) = &batch.directory {
            meta.push((DIRECTORY_KEY, JsValue::from_str(&to_json(directory)?)));
        }
        if let Some(groups) = &batch.groups {
            meta.push((GROUPS_KEY, JsValue::from_str(&to_json(groups)?)));
        }
        if let Some(broadcasts) = &batch.broadcasts {
            meta.push((BROADCASTS_KEY, JsValue::from_str(&to_json(broadcasts)?)));
        }
        Ok(Records {
            clear: batch
                .clear_messages
                .iter()
                .map(|peer| {
                    KeyRange::bound(
                        &timeline_key(peer, 0.0),
                        &timeline_key(peer, f64::INFINITY),
                        None,
                        None,
                    )
                    .map_err(write_error)
                })
                .collect::<Result<_, _>>()?,
            messages: message_records(&batch.messages)?,
            recalls: batch
                .recalls
                .iter()
                .map(|mark| {
                    KeyRange::bound(
                        &timeline_key(&mark.conversation, mark.id.0 as f64),
                        &timeline_key(&mark.conversation, f64::INFINITY),
                        None,
                        None,
                    )
                    .map(|range| (range, mark.clone()))
                    .map_err(write_error)
                })
                .collect::<Result<_, _>>()?,
            outbox_delete: batch
                .outbox_delete
                .iter()
                .map(|cid| JsValue::from_str(cid.as_str()))
                .collect(),
            outbox_put: batch
                .outbox_put
                .iter()
                .map(|entry| {
                    record(
                        &[("cid", JsValue::from_str(entry.cid.as_str()))],
                        &to_json(entry)?,
                    )
                })
                .collect::<Result<_, _>>()?,
            conversations: batch
                .conversations
                .iter()
                .map(|row| {
                    record(
                        &[("peer", JsValue::from_str(&row.peer.to_string()))],
                        &to_json(row)?,
                    )
                })
                .collect::<Result<_, _>>()?,
            meta,
        })
    }

    /// The stores the batch writes to.
    pub(super) fn stores(&self) -> Vec<&'static str> {
        let mut stores = Vec::new();
        if !self.clear.is_empty() || !self.messages.is_empty() || !self.recalls.is_empty() {
            stores.push(MESSAGES_STORE);
        }
        if !self.outbox_delete.is_empty() || !self.outbox_put.is_empty() {
            stores.push(OUTBOX_STORE);
        }
        if !self.conversations.is_empty() {
            stores.push(CONVERSATIONS_STORE);
        }
        if !self.meta.is_empty() {
            stores.push(META_STORE);
        }
        stores
    }

    /// Makes every request of the batch in `tx`. Only the clearing is awaited
    /// (its keys are needed); the rest is settled when `tx` commits.
    pub(super) async fn put(&self, tx: &IdbTransaction) -> Result<(), CacheError> {
        let write_error = |e: idb::Error| idb_error("write", &e);
        if !self.clear.is_empty() || !self.messages.is_empty() || !self.recalls.is_empty() {
            let messages = store(tx, MESSAGES_STORE, "write")?;
            let timeline = messages.index(TIMELINE_INDEX).map_err(write_error)?;
            // Clearing comes first so a batch can clear a conversation and file
            // a new message in it; the new one is put after every delete.
            for range in &self.clear {
                let ids = timeline
                    .get_all_keys(Some(range.clone().into()), None)
                    .map_err(write_error)?
                    .await
                    .map_err(write_error)?;
                for id in ids {
                    messages.delete(id).map_err(write_error)?;
                }
            }
            for message in &self.messages {
                messages.put(message, None).map_err(write_error)?;
            }
            // After the puts: a recall in the same batch as its original
            // still finds it (requests of one transaction run in order).
            for (range, mark) in &self.recalls {
                let records = timeline
                    .get_all(Some(range.clone().into()), None)
                    .map_err(write_error)?
                    .await
                    .map_err(write_error)?;
                let mut changed = Vec::new();
                for record in &records {
                    let mut message: Message = from_record(record, MESSAGES_STORE, "id")?;
                    if message.take_recall(mark.id, &mark.recalled) {
                        changed.push(CachedMessage {
                            conversation: mark.conversation.clone(),
                            message,
                        });
                    }
                }
                for record in message_records(&changed)? {
                    messages.put(&record, None).map_err(write_error)?;
                }
            }
        }
        if !self.outbox_delete.is_empty() || !self.outbox_put.is_empty() {
            let outbox = store(tx, OUTBOX_STORE, "write")?;
            for cid in &self.outbox_delete {
                outbox.delete(cid.clone()).map_err(write_error)?;
            }
            for entry in &self.outbox_put {
                outbox.put(entry, None).map_err(write_error)?;
            }
        }
        if !self.conversations.is_empty() {
            let conversations = store(tx, CONVERSATIONS_STORE, "write")?;
            for row in &self.conversations {
                conversations.put(row, None).map_err(write_error)?;
            }
        }
        if !self.meta.is_empty() {
            let meta = store(tx, META_STORE, "write")?;
            for (key, json) in &self.meta {
                meta.put(json, Some(&JsValue::from_str(key)))
                    .map_err(write_error)?;
            }
        }
        Ok(())
    }
}

/// A `timeline` key: the conversation, then the id.
pub(super) fn timeline_key(conversation: &Peer, id: f64) -> JsValue {
    Array::of2(
        &JsValue::from_str(&conversation.to_string()),
        &JsValue::from_f64(id),
    )
    .into()
}

/// The records of `messages`, made by the browser's JSON parser from one
/// text: a page of thousands of messages is then one call into JS, not
/// several per message.
pub(super) fn message_records(messages: &[CachedMessage]) -> Result<Vec<JsValue>, CacheError> {
    /// The fields of a message record, in the order [`record`] sets them.
    #[derive(Serialize)]
    struct MessageRecord {
        id: u64,
        conv: String,
        json: String,
    }
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let records = messages
        .iter()
        .map(|cached| {
            let id = cached.message.id;
            if id.0 > MAX_EXACT_ID {
                return Err(CacheError::Request {
                    operation: "write",
                    reason: format!("message id {id} is too large for IndexedDB to order exactly"),
                });
            }
            Ok(MessageRecord {
                id: id.0,
                conv: cached.conversation.to_string(),
                json: to_json(&cached.message)?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let parsed =
        js_sys::JSON::parse(&to_json(&records)?).map_err(|e| browser_error("write", &e))?;
    Ok(Array::from(&parsed).iter().collect())
}

/// A record: its key fields, and `json`.
pub(super) fn record(fields: &[(&str, JsValue)], json: &str) -> Result<JsValue, CacheError> {
    let object = Object::new();
    let json = ("json", JsValue::from_str(json));
    for (name, value) in fields.iter().chain([&json]) {
        Reflect::set(&object, &JsValue::from_str(name), value)
            .map_err(|e| browser_error("write", &e))?;
    }
    Ok(object.into())
}

/// The value a record holds in its `json` field.
pub(super) fn from_record<T: DeserializeOwned>(
    record: &JsValue,
    store: &str,
    key_field: &str,
) -> Result<T, CacheError> {
    let corrupt = |reason: String| {
        let key = Reflect::get(record, &JsValue::from_str(key_field))
            .ok()
            .and_then(|key| {
                // A number is written as JavaScript writes it (Rust's float
                // formatting would add about 10 KB to the bundle for this).
                key.as_string().or_else(|| {
                    let number = js_sys::Number::from(key.as_f64()?);
                    number.to_string_with_radix(10).ok().map(String::from)
                })
            })
            .unwrap_or_default();
        CacheError::Corrupt {
            key: format!("{store}/{key}"),
            reason,
        }
    };
    let json = Reflect::get(record, &JsValue::from_str("json"))
        .ok()
        .and_then(|json| json.as_string())
        .ok_or_else(|| corrupt("no JSON text in the record".into()))?;
    serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))
}

/// A `meta` value, if there is one: JSON text.
pub(super) fn meta_value<T: DeserializeOwned>(
    key: &str,
    value: Option<JsValue>,
) -> Result<Option<T>, CacheError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let corrupt = |reason: String| CacheError::Corrupt {
        key: format!("{META_STORE}/{key}"),
        reason,
    };
    let json = value
        .as_string()
        .ok_or_else(|| corrupt("not JSON text".into()))?;
    serde_json::from_str(&json)
        .map(Some)
        .map_err(|e| corrupt(e.to_string()))
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<String, CacheError> {
    serde_json::to_string(value).map_err(|e| CacheError::Request {
        operation: "write",
        reason: format!("cannot encode a record: {e}"),
    })
}
