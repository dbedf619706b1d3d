//! Category items (`sk = CATEGORY#<uuidv7>`), their name reservations
//! (`sk = CATNAME#<lowercased name>`, one per name, so uniqueness holds under concurrency) and
//! the user's category count (number `categories` of the counts item, bounded in the same
//! transaction as each create).
//!
//! A category's `task_count` moves in the same transaction as every task write that attaches
//! or detaches a task, and that transaction is conditional on the category being live (it
//! exists and its deletion has not begun): no task is ever written naming a category that is
//! gone or going.
//!
//! Deleting a category: mark it `deleting` (from then on it reads as absent, no task can be
//! attached to it, its name is free and it no longer counts) and add its id to the counts
//! item's `deleting_categories` set in the same transaction, detach its tasks page by page,
//! then take it out of the set and delete the item. A deletion cut short leaves a marked item
//! that the next `DELETE` resumes; meanwhile its tasks read as uncategorised: a listing learns
//! which categories are being deleted from the counts item it reads with the standing check,
//! not from a query of every category (one DynamoDB call fewer per listing).

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

use super::core::Store;
use super::error::StoreError;
use super::expr::{Changes, Cond, Expressed, SortKeys, Updating, keyed_query};
use super::items::{CategoryItem, CategoryNameItem};
use super::keys::{
    CATEGORY_SK_PREFIX, Key, PK, SK, TASK_SK_PREFIX, attr, category_key, category_name_sk,
    counts_key, key, n, prefix_end, s, user_pk,
};
use super::standing::{user_active, user_exists_check};
use super::writes::{Conditional, conditional, written};
use crate::categories::{Category, CategoryName, MAX_CATEGORIES_PER_USER};
use crate::domain::{CategoryId, Timestamp, UserId};

/// Task items read (keys only) per page while detaching a deleted category's tasks.
const DETACH_PAGE: i32 = 200;

/// How a category create ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryCreation {
    Created,
    /// The user is gone or being deleted (a request that authenticated just before).
    AccountGone,
    /// Another category of the user has this name (case-insensitively).
    NameTaken,
    /// The user has [`MAX_CATEGORIES_PER_USER`] categories already.
    LimitReached,
    /// The fresh id was taken (a UUIDv7 never collides; nothing was written).
    IdCollision,
}

/// How a conditional category write (a change, the start of a deletion) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryWrite {
    Written,
    /// The category changed (or its deletion began) since it was read: re-read.
    Conflict,
    /// The new name is another category's (case-insensitively).
    NameTaken,
    /// The user is gone or being deleted.
    AccountGone,
}

/// A category item as read.
#[derive(Debug, Clone, PartialEq)]
pub enum StoredCategory {
    Live(Category),
    /// Its deletion has begun: it is gone for every read, but its tasks may still name it.
    Deleting,
}

/// The user's categories and their names.
#[derive(Debug, Clone, Copy)]
pub struct Categories<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn categories(&self) -> Categories<'_> {
        Categories { store: self }
    }
}

impl Categories<'_> {
    /// The transaction item "category `id` is live", whose failure means `if_refused`.
    fn category_live<O>(
        self,
        user: UserId,
        id: CategoryId,
        if_refused: O,
    ) -> Result<Conditional<O>, StoreError> {
        // A live category: the same condition as an active user (exists, not being deleted).
        let check = ConditionCheck::builder()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, id)))
            .only_if(&user_active())
            .build()?;
        Ok(conditional(
            if_refused,
            TransactWriteItem::builder().condition_check(check).build(),
        ))
    }

    /// `ADD delta` to the task count of category `id`, only while it is live.
    fn count_tasks_of<O>(
        self,
        user: UserId,
        id: CategoryId,
        delta: i64,
        if_refused: O,
    ) -> Result<Conditional<O>, StoreError> {
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, id)))
            .changing(
                &Changes::default().add(attr::TASK_COUNT, n(delta)),
                Some(&user_active()),
            )
            .build()?;
        Ok(conditional(
            if_refused,
            TransactWriteItem::builder().update(update).build(),
        ))
    }

    /// The items of a task write that moves the task from category `from` to `to` (its live
    /// category before and after): the counts of both, or, unchanged, the check that the
    /// category is still live (else the write could re-attach a task its deletion detached).
    /// A refused `to` means `no_such_category`; any other refusal `conflict` (re-read: the
    /// category the task read with is going).
    pub(super) fn category_moves<O: Copy>(
        self,
        user: UserId,
        from: Option<CategoryId>,
        to: Option<CategoryId>,
        no_such_category: O,
        conflict: O,
    ) -> Result<Vec<Conditional<O>>, StoreError> {
        if from == to {
            return to
                .map(|id| self.category_live(user, id, conflict))
                .into_iter()
                .collect();
        }
        let mut items = Vec::new();
        if let Some(id) = to {
            items.push(self.count_tasks_of(user, id, 1, no_such_category)?);
        }
        if let Some(id) = from {
            items.push(self.count_tasks_of(user, id, -1, conflict)?);
        }
        Ok(items)
    }

    /// Stores a new category, reserves its name and counts it, atomically, only while the
    /// user is active: refused when the name is taken (case-insensitively) or the user has
    /// [`MAX_CATEGORIES_PER_USER`] already.
    pub async fn create(
        self,
        user: UserId,
        category: &Category,
    ) -> Result<CategoryCreation, StoreError> {
        let put = Put::builder()
            .table_name(self.store.table())
            .set_item(Some(serde_dynamo::to_item(CategoryItem::new(
                user, category,
            ))?))
            .only_if(&Cond::NotExists(SK))
            .build()?;
        let below_limit = Cond::NotExists(attr::CATEGORIES)
            .or(Cond::Lt(attr::CATEGORIES, n(MAX_CATEGORIES_PER_USER)));
        let counted = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(counts_key(user)))
            .changing(
                &Changes::default().add(attr::CATEGORIES, n(1)),
                Some(&below_limit),
            )
            .build()?;
        let items = vec![
            conditional(
                CategoryCreation::AccountGone,
                user_exists_check(self.store, user)?,
            ),
            self.reserve_name(
                user,
                &category.fields.name,
                category.id,
                CategoryCreation::NameTaken,
            )?,
            conditional(
                CategoryCreation::LimitReached,
                TransactWriteItem::builder().update(counted).build(),
            ),
            conditional(
                CategoryCreation::IdCollision,
                TransactWriteItem::builder().put(put).build(),
            ),
        ];
        self.store.transact(CategoryCreation::Created, items).await
    }

    /// The reservation of `name` for category `id`, refused (`if_taken`) if it is taken.
    fn reserve_name<O>(
        self,
        user: UserId,
        name: &CategoryName,
        id: CategoryId,
        if_taken: O,
    ) -> Result<Conditional<O>, StoreError> {
        let put = Put::builder()
            .table_name(self.store.table())
            .set_item(Some(serde_dynamo::to_item(CategoryNameItem::new(
                user, name, id,
            ))?))
            .only_if(&Cond::NotExists(SK))
            .build()?;
        Ok(conditional(
            if_taken,
            TransactWriteItem::builder().put(put).build(),
        ))
    }

    /// The release of `name`'s reservation (unconditional: it is the category's own).
    fn release_name<O>(
        self,
        user: UserId,
        name: &CategoryName,
        o: O,
    ) -> Result<Conditional<O>, StoreError> {
        let delete = Delete::builder()
            .table_name(self.store.table())
            .set_key(Some(key(
                user_pk(user),
                category_name_sk(&name.unique_key()),
            )))
            .build()?;
        Ok(conditional(
            o,
            TransactWriteItem::builder().delete(delete).build(),
        ))
    }

    /// One category item of the user (consistent read), live or being deleted, or `None`.
    pub async fn read(
        self,
        user: UserId,
        id: CategoryId,
    ) -> Result<Option<StoredCategory>, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(category_key(user, id)))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: CategoryItem = serde_dynamo::from_item(item)?;
        Ok(Some(match item.deleting {
            Some(_) => StoredCategory::Deleting,
            None => StoredCategory::Live(item.try_into()?),
        }))
    }

    /// One live category of the user, or `None` (also while its deletion runs).
    pub async fn get(self, user: UserId, id: CategoryId) -> Result<Option<Category>, StoreError> {
        Ok(match self.read(user, id).await? {
            Some(StoredCategory::Live(category)) => Some(category),
            Some(StoredCategory::Deleting) | None => None,
        })
    }

    /// `id` if it names a live category of the user, else `None`: what a task naming it
    /// shows (one read, only when there is an id).
    pub async fn live(
        self,
        user: UserId,
        id: Option<CategoryId>,
    ) -> Result<Option<CategoryId>, StoreError> {
        let Some(id) = id else {
            return Ok(None);
        };
        Ok(self.get(user, id).await?.map(|c| c.id))
    }

    /// Every live category of the user, by name (case-insensitively, then as written). At
    /// most 100 small items live, plus any whose deletion is unfinished.
    pub async fn list(self, user: UserId) -> Result<Vec<Category>, StoreError> {
        let query = self.store.query();
        let categories =
            SortKeys::Between(s(CATEGORY_SK_PREFIX), s(prefix_end(CATEGORY_SK_PREFIX)));
        let mut pages = keyed_query(query, (PK, s(user_pk(user))), (SK, categories), None, &[])
            .consistent_read(true)
            .into_paginator()
            .send();
        let mut items: Vec<CategoryItem> = Vec::new();
        while let Some(page) = pages.next().await {
            let page: Vec<CategoryItem> =
                serde_dynamo::from_items(page?.items.unwrap_or_default())?;
            items.extend(page.into_iter().filter(|item| item.deleting.is_none()));
        }
        items.sort_by(|a, b| a.name_lc.cmp(&b.name_lc).then_with(|| a.name.cmp(&b.name)));
        items.into_iter().map(Category::try_from).collect()
    }

    /// Replaces name and colour if the stored version is still `current.version` and the
    /// category is live (the task count is left as concurrent task writes made it); a new name
    /// is reserved and the old one released in the same transaction.
    pub async fn update(
        self,
        user: UserId,
        current: &Category,
        next: &Category,
    ) -> Result<CategoryWrite, StoreError> {
        let stored = CategoryItem::new(user, next);
        let changes = Changes::default()
            .set(attr::NAME, s(stored.name))
            .set(attr::NAME_LC, s(stored.name_lc))
            .set(attr::COLOR, s(stored.color))
            .set(attr::UPDATED_AT, s(next.updated_at.to_rfc3339()))
            .set(attr::VERSION, n(next.version));
        let as_read = user_active().and(Cond::Eq(attr::VERSION, n(current.version)));
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, current.id)))
            .changing(&changes, Some(&as_read))
            .build()?;
        let mut items = vec![
            conditional(
                CategoryWrite::AccountGone,
                user_exists_check(self.store, user)?,
            ),
            conditional(
                CategoryWrite::Conflict,
                TransactWriteItem::builder().update(update).build(),
            ),
        ];
        if current.fields.name.unique_key() != next.fields.name.unique_key() {
            items.push(self.reserve_name(
                user,
                &next.fields.name,
                next.id,
                CategoryWrite::NameTaken,
            )?);
            items.push(self.release_name(user, &current.fields.name, CategoryWrite::Conflict)?);
        }
        self.store.transact(CategoryWrite::Written, items).await
    }

    /// Begins the deletion of `current` if it is still that version: marks it (epoch seconds
    /// `now`), releases its name, uncounts it and lists it among the categories being
    /// deleted, atomically, only while the user is active.
    pub async fn mark_deleting(
        self,
        user: UserId,
        current: &Category,
        now: i64,
    ) -> Result<CategoryWrite, StoreError> {
        let as_read = user_active().and(Cond::Eq(attr::VERSION, n(current.version)));
        let mark = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, current.id)))
            .changing(
                &Changes::default().set(attr::DELETING, n(now)),
                Some(&as_read),
            )
            .build()?;
        let changes = Changes::default()
            .add(attr::CATEGORIES, n(-1))
            .add(attr::DELETING_CATEGORIES, id_set(current.id));
        let uncounted = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(counts_key(user)))
            .changing(&changes, None)
            .build()?;
        let items = vec![
            conditional(
                CategoryWrite::AccountGone,
                user_exists_check(self.store, user)?,
            ),
            conditional(
                CategoryWrite::Conflict,
                TransactWriteItem::builder().update(mark).build(),
            ),
            self.release_name(user, &current.fields.name, CategoryWrite::Conflict)?,
            conditional(
                CategoryWrite::Conflict,
                TransactWriteItem::builder().update(uncounted).build(),
            ),
        ];
        self.store.transact(CategoryWrite::Written, items).await
    }

    /// Detaches every task of category `id`, whose deletion has begun: each one's
    /// `category_id` removed, its `version` +1. Reads the tasks' keys page by page, so memory
    /// stays bounded whatever their number. Returns how many tasks were detached.
    pub async fn detach_tasks(self, user: UserId, id: CategoryId) -> Result<u64, StoreError> {
        let query = self.store.query();
        let tasks = SortKeys::BeginsWith(s(TASK_SK_PREFIX));
        let of_category = Cond::Eq(attr::CATEGORY_ID, s(id.to_string()));
        let query = keyed_query(
            query,
            (PK, s(user_pk(user))),
            (SK, tasks),
            Some(&of_category),
            &[PK, SK],
        );
        let mut pages = query
            .consistent_read(true)
            .limit(DETACH_PAGE)
            .into_paginator()
            .send();
        let mut detached = 0;
        while let Some(page) = pages.next().await {
            for task_key in page?.items.unwrap_or_default() {
                if self.detach_task(task_key, id).await? {
                    detached += 1;
                }
            }
        }
        Ok(detached)
    }

    /// Detaches one task if it still names `id` (a task moved or deleted meanwhile is left
    /// alone; nothing is written into a partition whose item is gone).
    async fn detach_task(self, task_key: Key, id: CategoryId) -> Result<bool, StoreError> {
        let update = self.store.update_item().set_key(Some(task_key)).changing(
            &Changes::default()
                .remove(attr::CATEGORY_ID)
                .increment(attr::VERSION, n(1))
                .set(attr::UPDATED_AT, s(Timestamp::now().to_rfc3339())),
            Some(&Cond::Eq(attr::CATEGORY_ID, s(id.to_string()))),
        );
        written(update.send().await)
    }

    /// Lists category `id`, whose deletion has begun, among the categories being deleted
    /// (idempotent). For a deletion resumed by `DELETE`: one begun by a version that did not
    /// keep the set is listed from then on. Writes nothing into a partition whose counts item
    /// is gone (an account being deleted).
    pub async fn list_as_deleting(self, user: UserId, id: CategoryId) -> Result<(), StoreError> {
        self.deleting_set(user, id, true).await
    }

    /// `id` added to (`listed`) or taken out of the counts item's set of categories being
    /// deleted, if the counts item exists.
    async fn deleting_set(
        self,
        user: UserId,
        id: CategoryId,
        listed: bool,
    ) -> Result<(), StoreError> {
        let changes = Changes::default();
        let changes = if listed {
            changes.add(attr::DELETING_CATEGORIES, id_set(id))
        } else {
            changes.delete(attr::DELETING_CATEGORIES, id_set(id))
        };
        let update = self
            .store
            .update_item()
            .set_key(Some(counts_key(user)))
            .changing(&changes, Some(&Cond::Exists(PK)));
        written(update.send().await)?;
        Ok(())
    }

    /// Removes the item of a category whose deletion began and whose tasks are detached (a
    /// concurrent `DELETE` that finished first leaves nothing to do), first taking it out of
    /// the set of categories being deleted: no task names it any more, so whichever of the
    /// two writes a cut-short deletion leaves undone, the next `DELETE` makes.
    pub async fn finish_deletion(self, user: UserId, id: CategoryId) -> Result<(), StoreError> {
        self.deleting_set(user, id, false).await?;
        let delete = self
            .store
            .delete_item()
            .set_key(Some(category_key(user, id)))
            .only_if(&Cond::Exists(attr::DELETING));
        written(delete.send().await)?;
        Ok(())
    }
}

/// A string set holding one category id (what `ADD` and `DELETE` of a set take).
fn id_set(id: CategoryId) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::Ss(vec![id.to_string()])
}
