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
use super::items::{CategoryItem, CategoryNameItem};
use super::keys::{
    CATEGORY_SK_PREFIX, Key, PK, SK, TASK_SK_PREFIX, attr, category_key, category_name_sk,
    counts_key, key, n, prefix_end, s, user_pk,
};
use super::standing::{USER_ACTIVE, user_condition_names, user_exists_check};
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
            .condition_expression(USER_ACTIVE)
            .set_expression_attribute_names(Some(user_condition_names()))
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
        let mut names = user_condition_names();
        names.insert("#task_count".into(), attr::TASK_COUNT.into());
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, id)))
            .update_expression("ADD #task_count :delta")
            .condition_expression(USER_ACTIVE)
            .set_expression_attribute_names(Some(names))
            .expression_attribute_values(":delta", n(delta))
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
            .condition_expression("attribute_not_exists(#sk)")
            .expression_attribute_names("#sk", SK)
            .build()?;
        let counted = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(counts_key(user)))
            .update_expression("ADD #categories :one")
            .condition_expression("attribute_not_exists(#categories) OR #categories < :max")
            .expression_attribute_names("#categories", attr::CATEGORIES)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(MAX_CATEGORIES_PER_USER))
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
            .condition_expression("attribute_not_exists(#sk)")
            .expression_attribute_names("#sk", SK)
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
            .client()
            .get_item()
            .table_name(self.store.table())
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
        let mut pages = self
            .store
            .client()
            .query()
            .table_name(self.store.table())
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(user_pk(user)))
            .expression_attribute_values(":lo", s(CATEGORY_SK_PREFIX))
            .expression_attribute_values(":hi", s(prefix_end(CATEGORY_SK_PREFIX)))
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
        let mut names = user_condition_names();
        for (placeholder, name) in [
            ("#name", attr::NAME),
            ("#name_lc", attr::NAME_LC),
            ("#color", attr::COLOR),
            ("#updated_at", attr::UPDATED_AT),
            ("#version", attr::VERSION),
        ] {
            names.insert(placeholder.into(), name.into());
        }
        let update = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, current.id)))
            .update_expression(
                "SET #name = :name, #name_lc = :name_lc, #color = :color, \
                 #updated_at = :updated_at, #version = :version",
            )
            .condition_expression(format!("{USER_ACTIVE} AND #version = :read_version"))
            .set_expression_attribute_names(Some(names))
            .expression_attribute_values(":name", s(stored.name))
            .expression_attribute_values(":name_lc", s(stored.name_lc))
            .expression_attribute_values(":color", s(stored.color))
            .expression_attribute_values(":updated_at", s(next.updated_at.to_rfc3339()))
            .expression_attribute_values(":version", n(next.version))
            .expression_attribute_values(":read_version", n(current.version))
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
        let mark = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, current.id)))
            .update_expression("SET #deleting = :now")
            .condition_expression(format!("{USER_ACTIVE} AND #version = :read_version"))
            .set_expression_attribute_names(Some(user_condition_names()))
            .expression_attribute_names("#version", attr::VERSION)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":read_version", n(current.version))
            .build()?;
        let uncounted = Update::builder()
            .table_name(self.store.table())
            .set_key(Some(counts_key(user)))
            .update_expression("ADD #categories :minus_one, #deleting_categories :id")
            .expression_attribute_names("#categories", attr::CATEGORIES)
            .expression_attribute_names("#deleting_categories", attr::DELETING_CATEGORIES)
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":id", id_set(current.id))
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
        let mut pages = self
            .store
            .client()
            .query()
            .table_name(self.store.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :task)")
            .filter_expression("#category_id = :category_id")
            .projection_expression("#pk, #sk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_names("#category_id", attr::CATEGORY_ID)
            .expression_attribute_values(":pk", s(user_pk(user)))
            .expression_attribute_values(":task", s(TASK_SK_PREFIX))
            .expression_attribute_values(":category_id", s(id.to_string()))
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
        let update = self
            .store
            .client()
            .update_item()
            .table_name(self.store.table())
            .set_key(Some(task_key))
            .update_expression(
                "REMOVE #category_id SET #version = #version + :one, #updated_at = :now",
            )
            .condition_expression("#category_id = :category_id")
            .expression_attribute_names("#category_id", attr::CATEGORY_ID)
            .expression_attribute_names("#version", attr::VERSION)
            .expression_attribute_names("#updated_at", attr::UPDATED_AT)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(Timestamp::now().to_rfc3339()))
            .expression_attribute_values(":category_id", s(id.to_string()));
        written(update.send().await)
    }

    /// Lists category `id`, whose deletion has begun, among the categories being deleted
    /// (idempotent). For a deletion resumed by `DELETE`: one begun by a version that did not
    /// keep the set is listed from then on. Writes nothing into a partition whose counts item
    /// is gone (an account being deleted).
    pub async fn list_as_deleting(self, user: UserId, id: CategoryId) -> Result<(), StoreError> {
        self.deleting_set(user, "ADD", id).await
    }

    /// `ADD` or `DELETE` `id` in the counts item's set of categories being deleted, if the
    /// counts item exists.
    async fn deleting_set(
        self,
        user: UserId,
        action: &str,
        id: CategoryId,
    ) -> Result<(), StoreError> {
        let update = self
            .store
            .client()
            .update_item()
            .table_name(self.store.table())
            .set_key(Some(counts_key(user)))
            .update_expression(format!("{action} #deleting_categories :id"))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#deleting_categories", attr::DELETING_CATEGORIES)
            .expression_attribute_values(":id", id_set(id));
        written(update.send().await)?;
        Ok(())
    }

    /// Removes the item of a category whose deletion began and whose tasks are detached (a
    /// concurrent `DELETE` that finished first leaves nothing to do), first taking it out of
    /// the set of categories being deleted: no task names it any more, so whichever of the
    /// two writes a cut-short deletion leaves undone, the next `DELETE` makes.
    pub async fn finish_deletion(self, user: UserId, id: CategoryId) -> Result<(), StoreError> {
        self.deleting_set(user, "DELETE", id).await?;
        let delete = self
            .store
            .client()
            .delete_item()
            .table_name(self.store.table())
            .set_key(Some(category_key(user, id)))
            .condition_expression("attribute_exists(#deleting)")
            .expression_attribute_names("#deleting", attr::DELETING);
        written(delete.send().await)?;
        Ok(())
    }
}

/// A string set holding one category id (what `ADD` and `DELETE` of a set take).
fn id_set(id: CategoryId) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::Ss(vec![id.to_string()])
}
