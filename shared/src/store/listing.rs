//! Listing a user's tasks: one `Query` per key range of the sort's index, filters applied
//! after reading, pages continued from a position.

use aws_sdk_dynamodb::types::AttributeValue;

use super::error::StoreError;
use super::expr::{Cond, SortKeys, keyed_query};
use super::items::{ListingTotals, StandingItem};
use super::keys::{
    DUE_INDEX, DUE_KEY_DATED, DUE_KEY_UNDATED, Key, PK, PRIORITY_INDEX, SK, TASK_SK_PREFIX, attr,
    counts_key, prefix_end, s, sk_of, task_key, text, user_pk,
};
use super::task_items::{Item, StoredTask, stored_task, task_id_of};
use super::tasks::Tasks;
use crate::domain::{CategoryId, Timestamp, UserId};
use crate::tasks::{CategoryFilter, ListFilters, ListPosition, Order, Sort, Task};

/// The most task items one listing request reads from DynamoDB. Filters are applied after
/// reading (DynamoDB applies `Limit` before `FilterExpression`), so a selective filter could
/// otherwise read a whole partition for one page; past this cap the page is returned short,
/// with a `next_cursor` to continue. 1000 small items stay well under DynamoDB's 1 MB per
/// `Query` and a few round trips.
pub const MAX_ITEMS_READ_PER_LIST: usize = 1000;

/// One page of a listing, with what it cost.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub tasks: Vec<Task>,
    /// Where the next page starts, if the partition may hold more matching tasks.
    pub next: Option<ListPosition>,
    /// Task items DynamoDB read (before filtering) to build this page.
    pub items_read: usize,
    /// `Query` calls made.
    pub queries: usize,
}

/// What one listing request asks the store for.
#[derive(Debug, Clone, Copy)]
pub struct ListRequest<'a> {
    pub filters: &'a ListFilters,
    /// The user's categories being deleted ([`ListingTotals::deleting_categories`]): with
    /// `category=none`, a task naming one of them counts as uncategorised. (A task only ever
    /// names a live category or one being deleted: a deletion detaches every task before it
    /// removes the category.)
    pub deleting: &'a [CategoryId],
    pub limit: usize,
    /// Where the listing continues (the position a cursor carried).
    pub after: Option<&'a ListPosition>,
    /// The listing's time: what `overdue` compares due dates with.
    pub as_of: Timestamp,
}

impl Tasks<'_> {
    /// What a listing reads of the counts item (totals, categories being deleted): one
    /// consistent read (zero and none before any task or category).
    pub async fn totals(self, user: UserId) -> Result<ListingTotals, StoreError> {
        let output = self
            .store
            .get_item()
            .set_key(Some(counts_key(user)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(match output.item {
            None => ListingTotals::default(),
            Some(item) => serde_dynamo::from_item::<_, StandingItem>(item)?.listing_totals(),
        })
    }

    /// One page of the user's tasks matching `filters`, after `after`, as if the user had no
    /// category, read now (tools and tests; see [`Self::list_among`]).
    pub async fn list(
        self,
        user: UserId,
        filters: &ListFilters,
        limit: usize,
        after: Option<&ListPosition>,
    ) -> Result<ListPage, StoreError> {
        let request = ListRequest {
            filters,
            deleting: &[],
            limit,
            after,
            as_of: Timestamp::now(),
        };
        self.list_among(user, request).await
    }

    /// One page of the user's tasks as `request` asks. Reads the listing's key ranges in
    /// order (see [`segments`]) until the page (plus one task, to know whether more follow)
    /// is full, the ranges end or [`MAX_ITEMS_READ_PER_LIST`] items were read.
    pub async fn list_among(
        self,
        user: UserId,
        request: ListRequest<'_>,
    ) -> Result<ListPage, StoreError> {
        let filters = request.filters;
        let filter = filter_condition(filters, request.deleting, request.as_of);
        let segments = segments(filters, request.as_of);
        // A listing resumes in the range holding its cursor's position.
        let (first, mut start) = match request.after {
            None => (0, None),
            Some(position) => match segments.iter().position(|s| s.holds(position)) {
                Some(i) => (i, segments.get(i).map(|s| s.start_key(user, position))),
                // Unreachable: a cursor is sealed for these filters and this time, so its
                // position lies in one of their ranges. Nothing to continue.
                None => return Ok(ListPage::default()),
            },
        };
        let mut read = Listing::new(request.limit, filters.is_filtered(), filters.sort);
        for (i, segment) in segments.iter().enumerate().skip(first) {
            loop {
                let output = self
                    .segment_query(
                        user,
                        segment,
                        filters.order,
                        filter.as_ref(),
                        read.next_limit(),
                    )
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await?;
                read.queries += 1;
                read.items_read += usize::try_from(output.scanned_count).unwrap_or(0);
                for item in output.items() {
                    read.keep(user, item);
                }
                start = output.last_evaluated_key;
                if let Some(key) = &start {
                    read.reached(key);
                }
                let more_may_follow = start.is_some() || i + 1 < segments.len();
                if read.is_full() || read.is_capped() {
                    return Ok(read.page(more_may_follow));
                }
                if start.is_none() {
                    break;
                }
            }
        }
        Ok(read.page(false))
    }

    /// One `Query` of a listing: the task items of `user` in `segment`, in `order`, filtered.
    fn segment_query(
        self,
        user: UserId,
        segment: &Segment,
        order: Order,
        filter: Option<&Cond>,
        read_limit: usize,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let query = self
            .store
            .query()
            .scan_index_forward(order == Order::Asc)
            .limit(i32::try_from(read_limit).unwrap_or(i32::MAX));
        let query = match segment.index {
            // Only the table reads consistently; an index is eventually consistent.
            None => query.consistent_read(true),
            Some(index) => query.index_name(index.name),
        };
        let key_attr = segment.index.map_or(SK, |index| index.key);
        let keys = match &segment.range {
            KeyRange::Any => SortKeys::Any,
            KeyRange::Between(lo, hi) => SortKeys::Between(s(lo.clone()), s(hi.clone())),
        };
        keyed_query(query, (PK, s(user_pk(user))), (key_attr, keys), filter, &[])
    }
}

/// A secondary index a listing reads, and its sort-key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Index {
    name: &'static str,
    key: &'static str,
}

const DUE: Index = Index {
    name: DUE_INDEX,
    key: attr::DUE_KEY,
};
const PRIORITY: Index = Index {
    name: PRIORITY_INDEX,
    key: attr::PRIORITY_KEY,
};

/// Which sort keys of a segment a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyRange {
    Any,
    /// Inclusive bounds.
    Between(String, String),
}

impl KeyRange {
    /// The keys beginning with `prefix`, as a range (see [`prefix_end`]: a `BETWEEN`, not a
    /// `begins_with`).
    fn prefix(prefix: &str) -> Self {
        Self::Between(prefix.to_string(), prefix_end(prefix))
    }

    fn contains(&self, key: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Between(lo, hi) => (lo.as_str()..=hi.as_str()).contains(&key),
        }
    }
}

/// One key range of the table (`index: None`) or of an index, read in the listing's order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    index: Option<Index>,
    range: KeyRange,
}

impl Segment {
    /// Whether a listing that stopped at `position` continues in this segment.
    fn holds(&self, position: &ListPosition) -> bool {
        match (self.index, position.index_key.as_deref()) {
            (None, None) => true,
            (Some(_), Some(key)) => self.range.contains(key),
            _ => false,
        }
    }

    /// The `ExclusiveStartKey` that continues after `position`: the table's key, and the
    /// index's sort key when reading an index.
    fn start_key(&self, user: UserId, position: &ListPosition) -> Key {
        let mut key = task_key(user, position.id);
        if let (Some(index), Some(index_key)) = (self.index, &position.index_key) {
            key.insert(index.key.to_string(), s(index_key.clone()));
        }
        key
    }
}

/// The key ranges a listing reads, in order. By creation: the table's task items. By
/// priority: the priority index. By due date: the dated keys (narrowed to the due-date
/// filters: the bounds are also in the filter expression, which keeps them strict), then —
/// in both orders, so that tasks without a due date come last — the undated keys, unless a
/// filter needs a due date.
fn segments(filters: &ListFilters, as_of: Timestamp) -> Vec<Segment> {
    match filters.sort {
        Sort::Created => vec![Segment {
            index: None,
            range: KeyRange::prefix(TASK_SK_PREFIX),
        }],
        Sort::Priority => vec![Segment {
            index: Some(PRIORITY),
            range: KeyRange::Any,
        }],
        Sort::Due => {
            // Overdue tasks are due before the listing's time.
            let before = match filters.overdue {
                Some(true) => Some(filters.due_before.map_or(as_of, |b| b.min(as_of))),
                _ => filters.due_before,
            };
            let dated = |t: Option<Timestamp>, open: &str| {
                t.map_or_else(
                    || format!("{DUE_KEY_DATED}{open}"),
                    |t| format!("{DUE_KEY_DATED}{}", t.to_rfc3339()),
                )
            };
            // `~` sorts after every digit: above every dated key.
            let mut segments = vec![Segment {
                index: Some(DUE),
                range: KeyRange::Between(dated(filters.due_after, ""), dated(before, "~")),
            }];
            let needs_due_date = filters.due_before.is_some()
                || filters.due_after.is_some()
                || filters.overdue == Some(true);
            if !needs_due_date {
                segments.push(Segment {
                    index: Some(DUE),
                    range: KeyRange::prefix(DUE_KEY_UNDATED),
                });
            }
            segments
        }
    }
}

/// The progress of one listing across its `Query` calls.
struct Listing {
    want: usize,
    filtered: bool,
    /// The index attribute whose value is a kept task's position (`None`: the table's key).
    index_key: Option<&'static str>,
    /// A filtered read keeps only some items: read in growing batches to save round trips.
    batch: usize,
    tasks: Vec<(Task, ListPosition)>,
    /// The furthest position read (a `LastEvaluatedKey`, or the last task kept): where a
    /// page cut short by the read cap continues.
    reached: Option<ListPosition>,
    items_read: usize,
    queries: usize,
}

impl Listing {
    fn new(limit: usize, filtered: bool, sort: Sort) -> Self {
        let want = limit + 1;
        Self {
            want,
            filtered,
            index_key: match sort {
                Sort::Created => None,
                Sort::Due => Some(DUE.key),
                Sort::Priority => Some(PRIORITY.key),
            },
            batch: if filtered { (want * 4).max(100) } else { want },
            tasks: Vec::with_capacity(want),
            reached: None,
            items_read: 0,
            queries: 0,
        }
    }

    /// The `Limit` of the next `Query`; grows for filtered reads.
    fn next_limit(&mut self) -> usize {
        let budget = MAX_ITEMS_READ_PER_LIST
            .saturating_sub(self.items_read)
            .max(1);
        if self.filtered {
            let limit = self.batch.min(budget);
            self.batch = self.batch.saturating_mul(2);
            limit
        } else {
            (self.want.saturating_sub(self.tasks.len())).clamp(1, budget)
        }
    }

    /// The position of an item (or key) in this listing's order.
    fn position_of(&self, item: &Item) -> Option<ListPosition> {
        let id = task_id_of(item)?;
        let index_key = match self.index_key {
            None => None,
            Some(attr) => Some(text(item, attr)?.to_string()),
        };
        Some(ListPosition { id, index_key })
    }

    /// Keeps a task read; one unreadable item never blocks the others: it is logged and
    /// skipped.
    fn keep(&mut self, user: UserId, item: &Item) {
        let Some(position) = self.position_of(item) else {
            tracing::error!(
                user_id = %user,
                sk = sk_of(item).unwrap_or("(not a string)"),
                "stored item with a malformed task key cannot be read"
            );
            return;
        };
        if let StoredTask::Task(task) = stored_task(user, position.id, item) {
            self.tasks.push((task, position.clone()));
        }
        self.reached = Some(position);
    }

    /// A `Query` stopped at `key` (its `LastEvaluatedKey`).
    fn reached(&mut self, key: &Key) {
        if let Some(position) = self.position_of(key) {
            self.reached = Some(position);
        }
    }

    fn is_full(&self) -> bool {
        self.tasks.len() >= self.want
    }

    fn is_capped(&self) -> bool {
        self.items_read >= MAX_ITEMS_READ_PER_LIST
    }

    /// The page; `more_may_follow`: the read stopped before the listing's ranges ended.
    fn page(mut self, more_may_follow: bool) -> ListPage {
        let limit = self.want - 1;
        let next = if self.tasks.len() > limit {
            self.tasks.truncate(limit);
            self.tasks.last().map(|(_, position)| position.clone())
        } else if more_may_follow {
            // Cut short by the read cap: continue after the furthest item read, matching or
            // not.
            self.reached.take()
        } else {
            None
        };
        tracing::debug!(
            items_read = self.items_read,
            queries = self.queries,
            returned = self.tasks.len(),
            "listed tasks"
        );
        ListPage {
            tasks: self.tasks.into_iter().map(|(task, _)| task).collect(),
            next,
            items_read: self.items_read,
            queries: self.queries,
        }
    }
}

/// The `FilterExpression` of a listing's filters (all combined with AND); `deleting` are the
/// user's categories being deleted (whose tasks `category=none` includes).
fn filter_condition(
    filters: &ListFilters,
    deleting: &[CategoryId],
    as_of: Timestamp,
) -> Option<Cond> {
    let mut all = Vec::new();
    if let Some(completed) = filters.completed {
        all.push(Cond::Eq(attr::COMPLETED, AttributeValue::Bool(completed)));
    }
    if let Some(priority) = filters.priority {
        all.push(Cond::Eq(attr::PRIORITY, s(priority.as_str())));
    }
    if let Some(q) = &filters.q {
        all.push(Cond::Contains(attr::TITLE_LC, s(q.clone())));
    }
    if let Some(category) = filters.category {
        all.push(category_condition(category, deleting));
    }
    all.extend(due_conditions(filters, as_of));
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(Cond::And(all)),
    }
}

fn category_condition(category: CategoryFilter, deleting: &[CategoryId]) -> Cond {
    let uncategorised = Cond::NotExists(attr::CATEGORY_ID);
    match category {
        CategoryFilter::Category(id) => Cond::Eq(attr::CATEGORY_ID, s(id.to_string())),
        CategoryFilter::Uncategorised if deleting.is_empty() => uncategorised,
        CategoryFilter::Uncategorised => {
            // `IN` takes at most 100 operands; deletions finish in the request that begins
            // them, so more than 99 unfinished at once do not happen (past that, the tasks of
            // the extra ones are left out of `category=none` until their deletion resumes).
            let ids = deleting
                .iter()
                .take(99)
                .map(|id| s(id.to_string()))
                .collect();
            uncategorised.or(Cond::In(attr::CATEGORY_ID, ids))
        }
    }
}

/// Due dates are stored as fixed-width UTC strings: comparing the strings compares the times.
/// A task without a due date is neither before nor after any time.
fn due_conditions(filters: &ListFilters, as_of: Timestamp) -> Vec<Cond> {
    let mut all = Vec::new();
    if let Some(before) = filters.due_before {
        all.push(Cond::Lt(attr::DUE_DATE, s(before.to_rfc3339())));
    }
    if let Some(after) = filters.due_after {
        all.push(Cond::Gt(attr::DUE_DATE, s(after.to_rfc3339())));
    }
    let as_of = s(as_of.to_rfc3339());
    let open = AttributeValue::Bool(false);
    match filters.overdue {
        None => {}
        Some(true) => {
            all.push(Cond::Lt(attr::DUE_DATE, as_of).and(Cond::Eq(attr::COMPLETED, open)))
        }
        Some(false) => all.push(
            Cond::NotExists(attr::DUE_DATE)
                .or(Cond::Ge(attr::DUE_DATE, as_of))
                .or(Cond::Ne(attr::COMPLETED, open)),
        ),
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter of `filters` as rendered: the expression, and its names and values.
    fn filter_expression(
        filters: &ListFilters,
        deleting: &[CategoryId],
        as_of: Timestamp,
    ) -> (Option<String>, Vec<String>, Vec<(String, AttributeValue)>) {
        match filter_condition(filters, deleting, as_of) {
            None => (None, Vec::new(), Vec::new()),
            Some(cond) => {
                let (expression, names, values) = cond.rendered();
                let mut values: Vec<_> = values.into_iter().collect();
                values.sort_by(|a, b| a.0.cmp(&b.0));
                (Some(expression), names.into_keys().collect(), values)
            }
        }
    }
    use crate::store::keys;
    use crate::tasks::Priority;
    use crate::tasks::TaskId;

    #[test]
    fn filters_combine_with_and() {
        let now = Timestamp::now();
        let (expression, names, values) = filter_expression(
            &ListFilters {
                completed: Some(true),
                priority: Some(Priority::Low),
                q: Some("milk".into()),
                ..ListFilters::default()
            },
            &[],
            now,
        );
        assert_eq!(
            expression.as_deref(),
            Some("#completed = :v0 AND #priority = :v1 AND contains(#title_lc, :v2)")
        );
        assert_eq!((names.len(), values.len()), (3, 3));
        assert_eq!(filter_expression(&ListFilters::default(), &[], now).0, None);
        let uncategorised = ListFilters {
            category: Some(CategoryFilter::Uncategorised),
            ..ListFilters::default()
        };
        assert_eq!(
            filter_expression(&uncategorised, &[], now).0.as_deref(),
            Some("attribute_not_exists(#category_id)")
        );
        let deleting = [CategoryId::generate(), CategoryId::generate()];
        let (expression, _, values) = filter_expression(&uncategorised, &deleting, now);
        assert_eq!(
            expression.as_deref(),
            Some("(attribute_not_exists(#category_id) OR #category_id IN (:v0, :v1))")
        );
        assert_eq!(values.len(), 2);
    }

    #[test]
    fn due_sorts_read_dated_keys_then_undated_ones_unless_a_due_date_is_needed() {
        let now = Timestamp::parse("2026-12-02T12:00:00Z").unwrap();
        let due = |f: ListFilters| {
            segments(
                &ListFilters {
                    sort: Sort::Due,
                    ..f
                },
                now,
            )
        };
        let undated = Segment {
            index: Some(DUE),
            range: KeyRange::prefix("N#"),
        };
        let dated = |lo: &str, hi: &str| Segment {
            index: Some(DUE),
            range: KeyRange::Between(lo.into(), hi.into()),
        };
        assert_eq!(
            due(ListFilters::default()),
            [dated("D#", "D#~"), undated.clone()]
        );
        assert_eq!(
            due(ListFilters {
                overdue: Some(false),
                ..ListFilters::default()
            }),
            [dated("D#", "D#~"), undated]
        );
        assert_eq!(
            due(ListFilters {
                overdue: Some(true),
                ..ListFilters::default()
            }),
            [dated("D#", "D#2026-12-02T12:00:00.000Z")]
        );
        let later = Timestamp::parse("2027-01-01T00:00:00Z");
        let earlier = Timestamp::parse("2026-01-01T00:00:00Z");
        assert_eq!(
            due(ListFilters {
                due_before: later,
                due_after: earlier,
                overdue: Some(true),
                ..ListFilters::default()
            }),
            [dated(
                "D#2026-01-01T00:00:00.000Z",
                "D#2026-12-02T12:00:00.000Z"
            )]
        );
        assert_eq!(
            due(ListFilters {
                due_before: earlier,
                ..ListFilters::default()
            }),
            [dated("D#", "D#2026-01-01T00:00:00.000Z")]
        );
        // The range holds the keys of tasks strictly inside it and the cursor positions
        // within it; a task due exactly at the upper bound is outside.
        let range = KeyRange::Between("D#".into(), "D#2026-12-02T12:00:00.000Z".into());
        let id = TaskId::generate();
        assert!(range.contains(&keys::due_key(
            id,
            Timestamp::parse("2026-12-02T11:59:59.999Z")
        )));
        assert!(!range.contains(&keys::due_key(id, Some(now))));
        assert!(!range.contains(&keys::due_key(id, None)));
        assert!(
            KeyRange::Between("D#".into(), "D#~".into()).contains(&keys::due_key(
                id,
                Timestamp::parse("9999-12-31T23:59:59.999Z")
            ))
        );
    }

    #[test]
    fn other_sorts_read_one_range() {
        let now = Timestamp::now();
        assert_eq!(
            segments(&ListFilters::default(), now),
            [Segment {
                index: None,
                range: KeyRange::prefix("TASK#")
            }]
        );
        let by_priority = ListFilters {
            sort: Sort::Priority,
            overdue: Some(true),
            ..ListFilters::default()
        };
        assert_eq!(
            segments(&by_priority, now),
            [Segment {
                index: Some(PRIORITY),
                range: KeyRange::Any
            }]
        );
    }

    #[test]
    fn due_date_filters_are_strict_and_overdue_excludes_completed_tasks() {
        let now = Timestamp::parse("2026-12-02T12:00:00Z").unwrap();
        let filters = ListFilters {
            due_before: Timestamp::parse("2027-01-01T00:00:00Z"),
            due_after: Timestamp::parse("2026-01-01T00:00:00Z"),
            overdue: Some(true),
            ..ListFilters::default()
        };
        let (expression, _, values) = filter_expression(&filters, &[], now);
        assert_eq!(
            expression.as_deref(),
            Some("#due_date < :v0 AND #due_date > :v1 AND (#due_date < :v2 AND #completed = :v3)")
        );
        assert!(values.contains(&(":v2".into(), s("2026-12-02T12:00:00.000Z"))));
        let not_overdue = ListFilters {
            overdue: Some(false),
            ..ListFilters::default()
        };
        assert_eq!(
            filter_expression(&not_overdue, &[], now).0.as_deref(),
            Some("(attribute_not_exists(#due_date) OR #due_date >= :v0 OR #completed <> :v1)")
        );
    }
}
