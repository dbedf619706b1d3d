//! The backfill of the sort indexes' keys (`due_key`, `priority_key`) on task items written
//! before the indexes existed. The API writes both keys with every task write; an index only
//! holds items that carry its key, so until this has run, `sort=due` and `sort=priority` do
//! not see older tasks (every other listing does). The deploy runs it once after the stack
//! update (`taskline-dev backfill-indexes`, README "Upgrading a deployed stack").
//!
//! This is the one `Scan` of the codebase: a maintenance pass over the whole table, never
//! part of a request. It reads one page (at most 1 MB) at a time, so its memory is bounded,
//! and it can be stopped and rerun at any time: it only touches items still lacking a key,
//! each write conditional on the item being unchanged since it was read (same `version`,
//! still without its keys), so it never overwrites a concurrent change — a task the API
//! rewrote meanwhile already has both keys.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Deserialize;

use super::core::Store;
use super::error::StoreError;
use super::expr::{Changes, Cond, Updating, filtered_scan};
use super::keys::Key;
use super::keys::{PK, SK, TASK_SK_PREFIX, attr, due_key, priority_key, s, task_id_of_sk};
use super::writes::written;
use crate::domain::Timestamp;
use crate::tasks::Priority;

/// What a backfill did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackfillReport {
    /// Task items that lacked a key and got both.
    pub updated: usize,
    /// Items that lacked a key and were left alone: changed meanwhile (the change wrote the
    /// keys), or unreadable (a priority or due date this version refuses; such an item must
    /// be replaced or deleted through the API, which writes the keys).
    pub skipped: usize,
    /// `Scan` pages read.
    pub pages: usize,
}

/// What the backfill reads of a task item.
#[derive(Debug, Deserialize)]
struct Unindexed {
    user_id: String,
    sk: String,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
    /// The `version` attribute exactly as stored (or absent): the write is conditional on it.
    #[serde(skip)]
    version: Option<AttributeValue>,
}

impl Unindexed {
    /// Both index keys, if the item's fields are ones this version reads.
    fn keys(&self) -> Option<(String, String)> {
        let id = task_id_of_sk(&self.sk)?;
        let priority = Priority::parse(self.priority.as_deref()?)?;
        let due = match self.due_date.as_deref() {
            None => None,
            Some(due) => Some(Timestamp::parse(due)?),
        };
        Some((due_key(id, due), priority_key(id, priority)))
    }
}

impl Store {
    /// Writes the index keys of every task item lacking one (see the module comment).
    pub async fn backfill_index_keys(&self) -> Result<BackfillReport, StoreError> {
        let mut report = BackfillReport::default();
        let mut start: Option<Key> = None;
        loop {
            let unindexed_tasks = Cond::BeginsWith(SK, s(TASK_SK_PREFIX))
                .and(Cond::NotExists(attr::DUE_KEY).or(Cond::NotExists(attr::PRIORITY_KEY)));
            let wanted = [PK, SK, attr::PRIORITY, attr::DUE_DATE, attr::VERSION];
            let scan = self.client().scan().table_name(self.table());
            let page = filtered_scan(scan, &unindexed_tasks, &wanted)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await?;
            report.pages += 1;
            for item in page.items() {
                let mut unindexed: Unindexed = serde_dynamo::from_item(item.clone())?;
                unindexed.version = item.get(attr::VERSION).cloned();
                let item = unindexed;
                if self.index(&item).await? {
                    report.updated += 1;
                } else {
                    report.skipped += 1;
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(report);
            }
        }
    }

    /// Writes one item's keys if it is still as read; whether it did.
    async fn index(&self, item: &Unindexed) -> Result<bool, StoreError> {
        let Some((due, priority)) = item.keys() else {
            tracing::warn!(user_id = %item.user_id, sk = %item.sk, "unreadable task left without index keys");
            return Ok(false);
        };
        let version_unchanged = match &item.version {
            Some(version) => Cond::Eq(attr::VERSION, version.clone()),
            None => Cond::NotExists(attr::VERSION),
        };
        let unindexed = Cond::NotExists(attr::DUE_KEY).or(Cond::NotExists(attr::PRIORITY_KEY));
        let changes = Changes::default()
            .set(attr::DUE_KEY, s(due))
            .set(attr::PRIORITY_KEY, s(priority));
        let update = self
            .update_item()
            .key(PK, s(item.user_id.clone()))
            .key(SK, s(item.sk.clone()))
            .changing(
                &changes,
                Some(&Cond::Exists(SK).and(version_unchanged).and(unindexed)),
            );
        let result = update.send().await;
        written(result)
    }
}
