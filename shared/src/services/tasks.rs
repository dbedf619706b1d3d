//! Tasks: creates (once per idempotency key, or under a client's id), listings, reads and
//! optimistic writes (read the task, check `If-Match`, write conditionally on the version
//! read; a lost race is read again and decided again).
//!
//! A task shows its category, and its writes count it, only while the category is live: a
//! category being deleted is gone for every read (as in a listing), though its tasks name it
//! until they are detached.

use super::caller::Bearer;
use super::retry::{ConflictRetry, WRITE_ATTEMPTS};
use crate::domain::{Fingerprint, IdempotencyKey, IfMatch, PutPrecondition, Timestamp};
use crate::error::ApiError;
use crate::store::{
    CreateOutcome, KeyedCreate, ListPage, ListRequest, ListingTotals, Store, StoredTask,
    UnreadableTask, WriteOutcome, backoff,
};
use crate::tasks::{
    CategoryFilter, CursorKeys, ListQuery, ListingView, NO_SUCH_CATEGORY, Task, TaskCounts,
    TaskFields, TaskId, TaskPatch,
};

/// Rounds of a create with an idempotency key whose record expired between the create's
/// condition and the read of the record (each round makes the key free or finds it taken).
const KEYED_CREATE_ATTEMPTS: u32 = 3;

/// The task service of one request.
#[derive(Debug, Clone, Copy)]
pub struct TaskService<'a> {
    pub store: &'a Store,
    /// The most tasks a user may hold.
    pub quota: u64,
}

/// What a create made with an idempotency key answers.
#[derive(Debug)]
pub enum KeyedAnswer {
    /// The task, created now.
    Created(Task),
    /// The key was used before with the same body: that create's answer, as it was then.
    Replay(KeyedCreate),
}

/// One page of a listing: its tasks, the cursor of the next page, the user's totals.
#[derive(Debug)]
pub struct Listing {
    pub tasks: Vec<Task>,
    pub next_cursor: Option<String>,
    pub counts: TaskCounts,
}

impl Listing {
    pub fn view(&self) -> ListingView<'_> {
        ListingView {
            items: self.tasks.iter().map(Task::view).collect(),
            next_cursor: self.next_cursor.clone(),
            counts: self.counts,
        }
    }
}

/// What a PUT did.
#[derive(Debug)]
pub enum Put {
    Created(Task),
    Replaced(Task),
}

/// What a PUT or PATCH does to the current fields.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// PUT: every writable field anew. Also replaces a stored item that cannot be read.
    Replace(&'a TaskFields),
    /// PATCH: needs the current fields, so an unreadable item stays unreadable (500 problem).
    Merge(&'a TaskPatch),
}

impl Change<'_> {
    fn apply(self, current: &TaskFields) -> TaskFields {
        match self {
            Self::Replace(fields) => (*fields).clone(),
            Self::Merge(patch) => patch.apply(current),
        }
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such task")
}

/// A write refused because its user is gone or being deleted (a request that authenticated
/// just before the deletion began).
pub fn account_gone() -> ApiError {
    ApiError::unauthorized_bearer("the account no longer exists")
}

/// The 500 problem a read of an unreadable task answers (it names the task and the fault).
fn unreadable(task: &UnreadableTask) -> ApiError {
    ApiError::Unreadable(task.problem())
}

/// A task's `category_id` that names no live category of the user.
fn no_such_category() -> ApiError {
    ApiError::validation("category_id", NO_SUCH_CATEGORY)
}

fn lost_every_race() -> ApiError {
    ApiError::Conflict("the task is being changed by other requests; retry")
}

fn key_in_flight() -> ApiError {
    ApiError::Conflict("a request with this Idempotency-Key is still in flight; retry")
}

/// The error a create refused for a reason other than its id or idempotency key answers.
fn refused_create(outcome: CreateOutcome) -> ApiError {
    match outcome {
        CreateOutcome::AccountGone => account_gone(),
        CreateOutcome::SessionEnded => ApiError::unauthorized_bearer("the session has ended"),
        CreateOutcome::QuotaFull => ApiError::Conflict(
            "the task quota of this account is reached; delete tasks to make room",
        ),
        CreateOutcome::NoSuchCategory => no_such_category(),
        CreateOutcome::KeyInFlight => key_in_flight(),
        CreateOutcome::IdCollision => ApiError::Internal("task id collision".into()),
        CreateOutcome::Created | CreateOutcome::KeyUsed => {
            ApiError::Internal(format!("create outcome {outcome:?} taken for a refusal"))
        }
    }
}

impl TaskService<'_> {
    /// Creates `task`. The transaction requires the user active and, if the Bearer's check
    /// is still due, its session alive.
    pub async fn create(self, bearer: &mut Bearer<'_>, task: &Task) -> Result<(), ApiError> {
        let session = bearer.carry_check();
        let tasks = self.store.tasks();
        match tasks
            .create(bearer.user(), session, task, self.quota)
            .await?
        {
            CreateOutcome::Created => Ok(()),
            refused => Err(refused_create(refused)),
        }
    }

    /// A create with an `Idempotency-Key`: the create and the record of its answer (`first`,
    /// the body of the 201 about to be sent) in one transaction; if the key is taken (and
    /// unexpired), the answer recorded for it when the body is the same (the first response's
    /// body as it was then, not the task as it is now), a 422 when it is not.
    pub async fn create_once(
        self,
        bearer: &mut Bearer<'_>,
        task: &Task,
        key: &IdempotencyKey,
        (fingerprint, response): (Fingerprint, String),
    ) -> Result<KeyedAnswer, ApiError> {
        let first = KeyedCreate {
            fingerprint,
            task_id: task.id,
            response,
        };
        let user = bearer.user();
        let tasks = self.store.tasks();
        for attempt in 1..=KEYED_CREATE_ATTEMPTS {
            // A refusal on the key means the user's and session's conditions held (they come
            // first): later rounds need not carry the session again.
            let keyed = (key, &first, crate::auth::unix_now());
            let session = bearer.carry_check();
            match tasks
                .create_once(user, session, task, self.quota, keyed)
                .await?
            {
                CreateOutcome::Created => return Ok(KeyedAnswer::Created(task.clone())),
                CreateOutcome::KeyUsed => {}
                refused => return Err(refused_create(refused)),
            }
            let recorded = self.store.idempotency();
            match recorded
                .recorded(user, key, crate::auth::unix_now())
                .await?
            {
                Some(earlier) if earlier.fingerprint == first.fingerprint => {
                    return Ok(KeyedAnswer::Replay(earlier));
                }
                Some(_) => {
                    return Err(ApiError::validation(
                        "Idempotency-Key",
                        "was used with another request body in the last 24 hours",
                    ));
                }
                // Expired since the create's condition saw it: the key is free again.
                None => backoff(attempt).await,
            }
        }
        // Only if the key kept expiring under every round: as busy as a first still in flight.
        Err(key_in_flight())
    }

    /// One page of the user's tasks as `query` asks, with the user's totals and the cursor of
    /// the next page.
    pub async fn list(
        self,
        bearer: &mut Bearer<'_>,
        query: &ListQuery,
        cursors: &CursorKeys,
    ) -> Result<Listing, ApiError> {
        let user = bearer.user();
        let continuation = query
            .cursor
            .as_deref()
            .map(|cursor| cursors.open(user, &query.filters, cursor))
            .transpose()?;
        // Every page of one listing compares due dates with the time of its first page.
        let as_of = continuation
            .as_ref()
            .and_then(|c| c.as_of)
            .unwrap_or_else(Timestamp::now);
        let filters = &query.filters;
        let request = ListRequest {
            filters,
            deleting: &[],
            limit: query.limit,
            after: continuation.as_ref().map(|c| &c.position),
            as_of,
        };
        let (totals, mut page) = self.page(bearer, request).await?;
        let deleting = &totals.deleting_categories;
        if let Some(CategoryFilter::Category(id)) = filters.category
            && deleting.contains(&id)
        {
            // A category being deleted is gone: it has no tasks (whatever the query found).
            page = ListPage::default();
        }
        for task in &mut page.tasks {
            task.hide_category_unless(|id| !deleting.contains(&id));
        }
        let next_cursor = page
            .next
            .and_then(|position| cursors.seal(user, filters, &position, as_of));
        Ok(Listing {
            tasks: page.tasks,
            next_cursor,
            counts: totals.counts,
        })
    }

    /// One page as `request` asks, with the user's totals. The categories being deleted
    /// (whose ids tasks still name until detached, and which read as absent) come with the
    /// totals, from the counts item, which comes with the standing check in its BatchGetItem
    /// if that is still due. Their tasks read as uncategorised: hidden after the query, except
    /// that `category=none` must know them before its query (its filter includes their
    /// tasks). Boxed: the joined reads make a future too large for a test thread's stack
    /// otherwise.
    async fn page(
        self,
        bearer: &mut Bearer<'_>,
        request: ListRequest<'_>,
    ) -> Result<(ListingTotals, ListPage), ApiError> {
        let (user, tasks) = (bearer.user(), self.store.tasks());
        if request.filters.category == Some(CategoryFilter::Uncategorised) {
            let (totals, ()) = bearer.alongside_with_totals(async { Ok(()) }).await?;
            let deleting = &totals.deleting_categories;
            let request = ListRequest {
                deleting,
                ..request
            };
            let page = Box::pin(tasks.list_among(user, request)).await?;
            return Ok((totals, page));
        }
        let listing = Box::pin(tasks.list_among(user, request));
        bearer.alongside_with_totals(listing).await
    }

    /// The task `id` (404 if there is none; the 500 problem of an unreadable one).
    pub async fn get(self, bearer: &mut Bearer<'_>, id: TaskId) -> Result<Task, ApiError> {
        match self.read(bearer, id).await?.ok_or_else(not_found)? {
            StoredTask::Task(task) => Ok(task),
            StoredTask::Unreadable(current) => Err(unreadable(&current)),
        }
    }

    /// One task of the user as it reads (`None` if there is none): its category is shown, and
    /// counted by its writes, only while the category is live. The first read of a request
    /// also checks the standing and reads the categories being deleted, in the same
    /// `BatchGetItem` (see [`Bearer::read_task`]). A later read (after a write lost a race)
    /// asks the category item itself, so a category that is gone without being listed (a
    /// deletion begun before the set was kept) cannot make every attempt conflict.
    async fn read(
        self,
        bearer: &mut Bearer<'_>,
        id: TaskId,
    ) -> Result<Option<StoredTask>, ApiError> {
        let (stored, deleting) = bearer.read_task(id).await?;
        let Some(mut stored) = stored else {
            return Ok(None);
        };
        let category = match &stored {
            StoredTask::Task(task) => task.fields.category_id,
            StoredTask::Unreadable(task) => task.category_id,
        };
        let live = match deleting {
            Some(deleting) => category.filter(|id| !deleting.contains(id)),
            None => {
                self.store
                    .categories()
                    .live(bearer.user(), category)
                    .await?
            }
        };
        match &mut stored {
            StoredTask::Task(task) => task.hide_category_unless(|id| live == Some(id)),
            StoredTask::Unreadable(task) => task.category_id = live,
        }
        Ok(Some(stored))
    }

    /// Applies `change` to the current task, conditionally on the version read. A change that
    /// changes nothing is not a new version: the current task is returned as is.
    pub async fn update(
        self,
        bearer: &mut Bearer<'_>,
        id: TaskId,
        if_match: &IfMatch,
        change: Change<'_>,
    ) -> Result<Task, ApiError> {
        let mut rounds = ConflictRetry::new(WRITE_ATTEMPTS);
        while rounds.next().await {
            // The first read goes with the standing check: confirmed before anything is written.
            let stored = self.read(bearer, id).await?.ok_or_else(not_found)?;
            if let Some(task) = self.change_once(bearer, stored, if_match, &change).await? {
                return Ok(task);
            }
        }
        Err(lost_every_race())
    }

    /// One round of [`TaskService::update`] on the task as read: the task written (or the
    /// current one, if nothing changes), or `None` if it changed since it was read.
    async fn change_once(
        self,
        bearer: &Bearer<'_>,
        stored: StoredTask,
        if_match: &IfMatch,
        change: &Change<'_>,
    ) -> Result<Option<Task>, ApiError> {
        let (user, tasks) = (bearer.user(), self.store.tasks());
        let (next, outcome) = match stored {
            StoredTask::Task(current) => {
                if !if_match.matches(current.version) {
                    return Err(ApiError::PreconditionFailed);
                }
                let fields = change.apply(&current.fields);
                if fields == current.fields {
                    return Ok(Some(current));
                }
                let next = current.changed(fields);
                let outcome = tasks.replace(user, &current, &next).await?;
                (next, outcome)
            }
            StoredTask::Unreadable(current) => {
                if !if_match.matches_stored(current.version) {
                    return Err(ApiError::PreconditionFailed);
                }
                let Change::Replace(fields) = change else {
                    return Err(unreadable(&current));
                };
                let next = current.replaced_by((*fields).clone());
                let outcome = tasks.replace_unreadable(user, &current, &next).await?;
                (next, outcome)
            }
        };
        match outcome {
            WriteOutcome::Written => Ok(Some(next)),
            WriteOutcome::Conflict => Ok(None),
            WriteOutcome::AccountGone => Err(account_gone()),
            WriteOutcome::NoSuchCategory => Err(no_such_category()),
        }
    }

    /// `PUT /v1/tasks/{id}`: replaces the task, or creates it under the client's id if there
    /// is none (as `precondition` allows), through the same transaction as a create (so a
    /// PUT-create that loses a race to another one re-reads and replaces, or gets 412 with
    /// `If-None-Match: *`).
    pub async fn put(
        self,
        bearer: &mut Bearer<'_>,
        id: TaskId,
        precondition: &PutPrecondition,
        fields: &TaskFields,
    ) -> Result<Put, ApiError> {
        let mut rounds = ConflictRetry::new(WRITE_ATTEMPTS);
        while rounds.next().await {
            // The first read goes with the standing check: confirmed before anything is written.
            let stored = self.read(bearer, id).await?;
            let written = match (stored, precondition.if_match()) {
                (None, _) if !precondition.creates() => return Err(not_found()),
                (None, _) => self
                    .create_with_id(bearer, id, fields)
                    .await?
                    .map(Put::Created),
                (Some(_), None) => return Err(ApiError::ExistsAlready),
                (Some(stored), Some(if_match)) => {
                    let change = Change::Replace(fields);
                    self.change_once(bearer, stored, if_match, &change)
                        .await?
                        .map(Put::Replaced)
                }
            };
            if let Some(written) = written {
                return Ok(written);
            }
        }
        Err(lost_every_race())
    }

    /// Creates the task under the client's id, through the same transaction as a create
    /// (user, session, quota, category); `None` if another request created it since it was
    /// read.
    async fn create_with_id(
        self,
        bearer: &mut Bearer<'_>,
        id: TaskId,
        fields: &TaskFields,
    ) -> Result<Option<Task>, ApiError> {
        let task = Task::with_id(id, fields.clone());
        let session = bearer.carry_check();
        let tasks = self.store.tasks();
        match tasks
            .create(bearer.user(), session, &task, self.quota)
            .await?
        {
            CreateOutcome::Created => Ok(Some(task)),
            CreateOutcome::IdCollision => Ok(None),
            refused => Err(refused_create(refused)),
        }
    }

    /// Deletes the task, conditionally on the version read. Deleting needs no more of the
    /// item than its key and version: an item that cannot be read can still be deleted.
    pub async fn delete(
        self,
        bearer: &mut Bearer<'_>,
        id: TaskId,
        if_match: &IfMatch,
    ) -> Result<(), ApiError> {
        let mut rounds = ConflictRetry::new(WRITE_ATTEMPTS);
        while rounds.next().await {
            // The first read goes with the standing check.
            let stored = self.read(bearer, id).await?;
            let (user, tasks) = (bearer.user(), self.store.tasks());
            let outcome = match stored.ok_or_else(not_found)? {
                StoredTask::Task(current) => {
                    if !if_match.matches(current.version) {
                        return Err(ApiError::PreconditionFailed);
                    }
                    tasks.delete(user, &current).await?
                }
                StoredTask::Unreadable(current) => {
                    if !if_match.matches_stored(current.version) {
                        return Err(ApiError::PreconditionFailed);
                    }
                    tasks.delete_unreadable(user, &current).await?
                }
            };
            match outcome {
                WriteOutcome::Written => return Ok(()),
                // A delete moves no task into a category: never refused for one.
                WriteOutcome::Conflict | WriteOutcome::NoSuchCategory => {}
                WriteOutcome::AccountGone => return Err(account_gone()),
            }
        }
        Err(lost_every_race())
    }
}
