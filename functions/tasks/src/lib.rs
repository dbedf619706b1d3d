//! `tasks`: the Tasks and Categories sections of docs/API.md (categories live here because a
//! task write moves its category's `task_count` in the same transaction). Every route is
//! Bearer; the user (and so the DynamoDB partition) always comes from the verified token, never
//! from the request.
//!
//! Writes are optimistic: read the task, check `If-Match`, write conditionally on the version
//! read. A write that loses a race is re-read and retried (up to [`WRITE_ATTEMPTS`] times, with
//! jittered backoff), so without `If-Match` no concurrent change is ever lost; with
//! `If-Match` the re-read version no longer matches and the client gets 412.
//!
//! Safe creates (issue 13 §3): a PUT of a missing task creates it under the client's UUIDv7,
//! through the same transaction as a POST (so a PUT-create that loses a race to another one
//! re-reads and replaces, or gets 412 with `If-None-Match: *`); a POST with an
//! `Idempotency-Key` records its answer in that transaction and answers a retry with it.

mod categories;

use lambda_http::http::{Method, StatusCode, header};
use taskline::App;
use taskline::app::Bearer;
use taskline::auth::{SessionClaim, UserId, unix_now};
use taskline::domain::{Fingerprint, IdempotencyKey};
use taskline::error::{ApiError, FieldError};
use taskline::http::{
    IfMatch, Matched, PutPrecondition, Request, Response, Route, empty, idempotency_key,
    json_object, json_response, serve, text_response, with_header,
};
use taskline::store::{
    CreateOutcome, KeyedCreate, ListPage, ListRequest, StoredTask, UnreadableTask, WriteOutcome,
    backoff,
};
use taskline::tasks::{
    CategoryFilter, ListQuery, ListingView, NO_SUCH_CATEGORY, Task, TaskCreate, TaskFields, TaskId,
    TaskPatch, TaskReplace, Timestamp,
};

/// The keys this function loads at cold start (it verifies access tokens and seals list cursors;
/// an external provider's shared secret, if one is configured); template.yaml grants it exactly
/// these secrets.
pub const KEYS: &[taskline::config::SecretName] = &[
    taskline::config::SecretName::Jwt,
    taskline::config::SecretName::Cursor,
    taskline::config::SecretName::External,
];

/// What this function serves.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    List,
    Create,
    Get,
    Replace,
    Patch,
    Delete,
    Category(categories::Endpoint),
}

pub static ROUTES: &[Route<Endpoint>] = &[
    Route::new(
        "/v1/tasks",
        &[
            (Method::GET, Endpoint::List),
            (Method::POST, Endpoint::Create),
        ],
    ),
    Route::new(
        "/v1/tasks/{id}",
        &[
            (Method::GET, Endpoint::Get),
            (Method::PUT, Endpoint::Replace),
            (Method::PATCH, Endpoint::Patch),
            (Method::DELETE, Endpoint::Delete),
        ],
    ),
    Route::new(
        "/v1/categories",
        &[
            (Method::GET, Endpoint::Category(categories::Endpoint::List)),
            (
                Method::POST,
                Endpoint::Category(categories::Endpoint::Create),
            ),
        ],
    ),
    Route::new(
        "/v1/categories/{id}",
        &[
            (Method::GET, Endpoint::Category(categories::Endpoint::Get)),
            (
                Method::PATCH,
                Endpoint::Category(categories::Endpoint::Patch),
            ),
            (
                Method::DELETE,
                Endpoint::Category(categories::Endpoint::Delete),
            ),
        ],
    ),
];

/// Read-check-write rounds of one update or delete before giving up with 409 (only reachable
/// under sustained contention on one task).
pub const WRITE_ATTEMPTS: u32 = 10;

/// Rounds of a create with an idempotency key whose record expired between the create's
/// condition and the read of the record (each round makes the key free or finds it taken).
const KEYED_CREATE_ATTEMPTS: u32 = 3;

pub async fn handle(app: &App, req: Request) -> Response {
    serve(&app.config, ROUTES, req, async |endpoint, route, req| {
        // The token is verified here; its user's and session's standing is checked with each
        // route's first DynamoDB call (issue 15: one round trip for a read, not two).
        let bearer = app.bearer(&req).await?;
        let answer = answer(app, &bearer, endpoint, &route, &req).await;
        // No call if the route's first read or its transaction carried the check; otherwise
        // (input refused before any call) a refused token is still a 401 first.
        bearer.confirm().await?;
        answer
    })
    .await
}

async fn answer(
    app: &App,
    bearer: &Bearer<'_>,
    endpoint: Endpoint,
    route: &Matched<Endpoint>,
    req: &Request,
) -> Result<Response, ApiError> {
    // A malformed id names no task: 404 like any other missing task.
    let id = || {
        route
            .param("id")
            .and_then(TaskId::parse)
            .ok_or_else(not_found)
    };
    match endpoint {
        Endpoint::List => list(app, bearer, req).await,
        // Boxed: creates and PUTs hold the most state across their calls; unboxed, the
        // handler's future overflows a test thread's stack (debug builds).
        Endpoint::Create => Box::pin(create(app, bearer, req)).await,
        Endpoint::Get => get(app, bearer, id()?).await,
        Endpoint::Replace => Box::pin(put(app, bearer, route, req)).await,
        Endpoint::Patch => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            let patch = TaskPatch::parse(json_object(req)?)?;
            let task = update(app, bearer, id, &if_match, Change::Merge(&patch)).await?;
            task_response(StatusCode::OK, &task)
        }
        Endpoint::Delete => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            delete(app, bearer, id, &if_match).await
        }
        Endpoint::Category(endpoint) => {
            // Category writes carry no session condition: the standing comes first.
            bearer.confirm().await?;
            categories::handle(app, bearer.user(), endpoint, route, req).await
        }
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such task")
}

/// A task write refused because its user is gone or being deleted (a request that
/// authenticated just before the deletion began).
pub(crate) fn account_gone() -> ApiError {
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

/// A response carrying one task and its `ETag`.
fn task_response(status: StatusCode, task: &Task) -> Result<Response, ApiError> {
    with_header(
        json_response(status, &task.view()),
        header::ETAG,
        task.etag(),
    )
}

/// The 201 of a create: the task, its `ETag` and `Location`.
fn created_response(task: &Task) -> Result<Response, ApiError> {
    let response = task_response(StatusCode::CREATED, task)?;
    with_header(response, header::LOCATION, format!("/v1/tasks/{}", task.id))
}

async fn create(app: &App, bearer: &Bearer<'_>, req: &Request) -> Result<Response, ApiError> {
    // A malformed key is refused before the body is read: the client meant this create to
    // be safe to retry.
    let key = idempotency_key(req)?;
    let TaskCreate(fields) = TaskCreate::parse(json_object(req)?)?;
    let task = Task::new(fields);
    // The transaction requires the user active and, if not checked yet, the session alive.
    let session = bearer.unconfirmed_session();
    let user = bearer.user();
    let Some(key) = key else {
        let quota = app.config.max_tasks_per_user;
        return match app.store.create_task(user, session, &task, quota).await? {
            CreateOutcome::Created => created_response(&task),
            refused => Err(refused_create(refused)),
        };
    };
    create_once(
        app,
        user,
        session,
        &task,
        &key,
        Fingerprint::of(req.body().as_ref()),
    )
    .await
}

/// A POST with an `Idempotency-Key`: the create and the record of its answer in one
/// transaction; if the key is taken (and unexpired), the answer recorded for it when the body
/// is the same (the first response's body as it was then, not the task as it is now), a 422
/// when it is not.
async fn create_once(
    app: &App,
    user: UserId,
    mut session: Option<(SessionClaim, i64)>,
    task: &Task,
    key: &IdempotencyKey,
    fingerprint: Fingerprint,
) -> Result<Response, ApiError> {
    let first = KeyedCreate {
        fingerprint,
        task_id: task.id,
        response: serde_json::to_string(&task.view())
            .map_err(|e| ApiError::failed("serializing a task", e))?,
    };
    let quota = app.config.max_tasks_per_user;
    for attempt in 1..=KEYED_CREATE_ATTEMPTS {
        // A refusal on the key means the user's and session's conditions held (they come
        // first): later rounds need not carry the session again.
        let keyed = (key, &first, unix_now());
        match app
            .store
            .create_task_once(user, session.take(), task, quota, keyed)
            .await?
        {
            CreateOutcome::Created => return created_response(task),
            CreateOutcome::KeyUsed => {}
            refused => return Err(refused_create(refused)),
        }
        match app.store.keyed_create(user, key, unix_now()).await? {
            Some(earlier) if earlier.fingerprint == first.fingerprint => return replay(&earlier),
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

/// The first answer of a create, again: 201 with its body as recorded, `Location` and the
/// `ETag` every created task has (version 1).
fn replay(earlier: &KeyedCreate) -> Result<Response, ApiError> {
    let response = text_response(
        StatusCode::CREATED,
        "application/json",
        earlier.response.clone(),
    );
    let response = with_header(response, header::ETAG, "\"1\"")?;
    with_header(
        response,
        header::LOCATION,
        format!("/v1/tasks/{}", earlier.task_id),
    )
}

async fn list(app: &App, bearer: &Bearer<'_>, req: &Request) -> Result<Response, ApiError> {
    let user = bearer.user();
    let query = ListQuery::parse(req.uri().query())?;
    let keys = &app.cursors;
    let continuation = query
        .cursor
        .as_deref()
        .map(|cursor| keys.open(user, &query.filters, cursor))
        .transpose()?;
    // Every page of one listing compares due dates with the time of its first page.
    let as_of = continuation
        .as_ref()
        .and_then(|c| c.as_of)
        .unwrap_or_else(Timestamp::now);
    let after = continuation.as_ref().map(|c| &c.position);
    // The categories being deleted (whose ids tasks still name until detached, and which
    // read as absent) come with the totals, from the counts item, which comes with the
    // standing check in its BatchGetItem if that is still due. Their tasks read as
    // uncategorised: hidden after the query, except that `category=none` must know them
    // before its query (its filter includes their tasks).
    let filters = &query.filters;
    let request = ListRequest {
        filters,
        deleting: &[],
        limit: query.limit,
        after,
        as_of,
    };
    // Boxed: the joined reads make a future too large for a test thread's stack otherwise.
    let (totals, mut page) = match filters.category {
        Some(CategoryFilter::Uncategorised) => {
            let (totals, ()) = bearer.alongside_with_totals(async { Ok(()) }).await?;
            let request = ListRequest {
                deleting: &totals.deleting_categories,
                ..request
            };
            let page = Box::pin(app.store.list_tasks_among(user, request)).await?;
            (totals, page)
        }
        _ => {
            bearer
                .alongside_with_totals(Box::pin(app.store.list_tasks_among(user, request)))
                .await?
        }
    };
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
        .and_then(|position| keys.seal(user, &query.filters, &position, as_of));
    // Serialized straight from the views (no `serde_json::Value` tree in between).
    let listing = ListingView {
        items: page.tasks.iter().map(Task::view).collect(),
        next_cursor,
        counts: totals.counts,
    };
    Ok(json_response(StatusCode::OK, &listing))
}

async fn get(app: &App, bearer: &Bearer<'_>, id: TaskId) -> Result<Response, ApiError> {
    let stored = read_task(app, bearer, id).await?;
    match stored.ok_or_else(not_found)? {
        StoredTask::Task(task) => task_response(StatusCode::OK, &task),
        StoredTask::Unreadable(current) => Err(unreadable(&current)),
    }
}

/// One task of the user as it reads (`None` if there is none): its category is shown, and
/// counted by its writes, only while the category is live. The first read of a request also
/// checks the standing and reads the categories being deleted, in the same `BatchGetItem`
/// (see [`Bearer::read_task`]): a category among them is gone, as in a listing. A later read
/// (after a write lost a race) asks the category item itself, so a category that is gone
/// without being listed (a deletion begun before the set was kept) cannot make every
/// attempt conflict.
async fn read_task(
    app: &App,
    bearer: &Bearer<'_>,
    id: TaskId,
) -> Result<Option<StoredTask>, ApiError> {
    let user = bearer.user();
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
        None => app.store.live_category(user, category).await?,
    };
    match &mut stored {
        StoredTask::Task(task) => task.hide_category_unless(|id| live == Some(id)),
        StoredTask::Unreadable(task) => task.category_id = live,
    }
    Ok(Some(stored))
}

/// What a PUT or PATCH does to the current fields.
enum Change<'a> {
    /// PUT: every writable field anew. Also replaces a stored item that cannot be read.
    Replace(&'a TaskFields),
    /// PATCH: needs the current fields, so an unreadable item stays unreadable (500 problem).
    Merge(&'a TaskPatch),
}

impl Change<'_> {
    fn apply(&self, current: &TaskFields) -> TaskFields {
        match self {
            Self::Replace(fields) => (*fields).clone(),
            Self::Merge(patch) => patch.apply(current),
        }
    }
}

/// Applies `change` to the current task, conditionally on the version read. A change that
/// changes nothing is not a new version: the current task is returned as is.
async fn update(
    app: &App,
    bearer: &Bearer<'_>,
    id: TaskId,
    if_match: &IfMatch,
    change: Change<'_>,
) -> Result<Task, ApiError> {
    let user = bearer.user();
    for attempt in 1..=WRITE_ATTEMPTS {
        // The first read goes with the standing check: confirmed before anything is written.
        let stored = read_task(app, bearer, id).await?.ok_or_else(not_found)?;
        if let Some(task) = change_once(app, user, stored, if_match, &change).await? {
            return Ok(task);
        }
        backoff(attempt).await;
    }
    Err(lost_every_race())
}

/// One round of [`update`] on the task as read: the task written (or the current one, if
/// nothing changes), or `None` if it changed since it was read (re-read and decide again).
async fn change_once(
    app: &App,
    user: UserId,
    stored: StoredTask,
    if_match: &IfMatch,
    change: &Change<'_>,
) -> Result<Option<Task>, ApiError> {
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
            let outcome = app.store.replace_task(user, &current, &next).await?;
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
            let outcome = app
                .store
                .replace_unreadable_task(user, &current, &next)
                .await?;
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

/// What a PUT did.
enum Put {
    Created(Task),
    Replaced(Task),
}

/// `PUT /v1/tasks/{id}`: replaces the task, or creates it under the client's id if there is
/// none (as [`PutPrecondition`] allows). The id must be one a client may choose (a canonical
/// UUIDv7 at most a day ahead; else 422, with the body's field errors) because the PUT may
/// create; GET, PATCH and DELETE keep answering 404 for any id that names no task.
async fn put(
    app: &App,
    bearer: &Bearer<'_>,
    route: &Matched<Endpoint>,
    req: &Request,
) -> Result<Response, ApiError> {
    let id = TaskId::chosen_by_client(route.param("id").unwrap_or_default(), unix_now())
        .map_err(|message| FieldError::new("id", message));
    let precondition = PutPrecondition::from_request(req)?;
    let body = json_object(req).and_then(TaskReplace::parse);
    let (id, TaskCreate(fields)) = match (id, body) {
        (Ok(id), Ok(body)) => (id, body),
        (Err(id), Ok(_)) => return Err(ApiError::Validation(vec![id])),
        (Err(id), Err(ApiError::Validation(mut errors))) => {
            errors.insert(0, id);
            return Err(ApiError::Validation(errors));
        }
        (_, Err(malformed)) => return Err(malformed),
    };
    match create_or_replace(app, bearer, id, &precondition, &fields).await? {
        Put::Created(task) => created_response(&task),
        Put::Replaced(task) => task_response(StatusCode::OK, &task),
    }
}

async fn create_or_replace(
    app: &App,
    bearer: &Bearer<'_>,
    id: TaskId,
    precondition: &PutPrecondition,
    fields: &TaskFields,
) -> Result<Put, ApiError> {
    let user = bearer.user();
    for attempt in 1..=WRITE_ATTEMPTS {
        // The first read goes with the standing check: confirmed before anything is written.
        let stored = read_task(app, bearer, id).await?;
        let written = match (stored, precondition.if_match()) {
            (None, _) if !precondition.creates() => return Err(not_found()),
            (None, _) => create_with_id(app, bearer, id, fields)
                .await?
                .map(Put::Created),
            (Some(_), None) => return Err(ApiError::ExistsAlready),
            (Some(stored), Some(if_match)) => {
                change_once(app, user, stored, if_match, &Change::Replace(fields))
                    .await?
                    .map(Put::Replaced)
            }
        };
        if let Some(written) = written {
            return Ok(written);
        }
        backoff(attempt).await;
    }
    Err(lost_every_race())
}

/// Creates the task under the client's id, through the same transaction as a POST (user,
/// session, quota, category); `None` if another request created it since it was read.
async fn create_with_id(
    app: &App,
    bearer: &Bearer<'_>,
    id: TaskId,
    fields: &TaskFields,
) -> Result<Option<Task>, ApiError> {
    let task = Task::with_id(id, fields.clone());
    let session = bearer.unconfirmed_session();
    let quota = app.config.max_tasks_per_user;
    match app
        .store
        .create_task(bearer.user(), session, &task, quota)
        .await?
    {
        CreateOutcome::Created => Ok(Some(task)),
        CreateOutcome::IdCollision => Ok(None),
        refused => Err(refused_create(refused)),
    }
}

async fn delete(
    app: &App,
    bearer: &Bearer<'_>,
    id: TaskId,
    if_match: &IfMatch,
) -> Result<Response, ApiError> {
    let user = bearer.user();
    for attempt in 1..=WRITE_ATTEMPTS {
        // Deleting needs no more of the item than its key and version: an item that cannot
        // be read can still be deleted. The first read goes with the standing check.
        let stored = read_task(app, bearer, id).await?;
        let outcome = match stored.ok_or_else(not_found)? {
            StoredTask::Task(current) => {
                if !if_match.matches(current.version) {
                    return Err(ApiError::PreconditionFailed);
                }
                app.store.delete_task(user, &current).await?
            }
            StoredTask::Unreadable(current) => {
                if !if_match.matches_stored(current.version) {
                    return Err(ApiError::PreconditionFailed);
                }
                app.store.delete_unreadable_task(user, &current).await?
            }
        };
        match outcome {
            WriteOutcome::Written => return Ok(empty(StatusCode::NO_CONTENT)),
            // A delete moves no task into a category: never refused for one.
            WriteOutcome::Conflict | WriteOutcome::NoSuchCategory => backoff(attempt).await,
            WriteOutcome::AccountGone => return Err(account_gone()),
        }
    }
    Err(lost_every_race())
}
