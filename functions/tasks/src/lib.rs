//! `tasks`: the Tasks and Categories sections of docs/API.md (categories live here because a
//! task write moves its category's `task_count` in the same transaction). Every route is
//! Bearer; the user (and so the DynamoDB partition) always comes from the verified token, never
//! from the request. The handlers parse, call the task service (`taskline::services::tasks`:
//! optimistic writes retried on conflict, creates once per `Idempotency-Key`) and respond.

mod categories;

use lambda_http::http::{Method, StatusCode, header};
use taskline::App;
use taskline::app::{Answer, Call, Handler};
use taskline::auth::unix_now;
use taskline::domain::{Fingerprint, IfMatch, PutPrecondition};
use taskline::error::{ApiError, FieldError};
use taskline::http::{
    Auth, Matched, Request, Response, Route, empty, idempotency_key, json_object, json_response,
    text_response, with_header,
};
use taskline::services::Bearer;
use taskline::services::tasks::{Change, KeyedAnswer, Put};
use taskline::store::KeyedCreate;
use taskline::tasks::{ListQuery, Task, TaskCreate, TaskId, TaskPatch, TaskReplace};

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

use categories::Endpoint as C;

pub static ROUTES: &[Route<Endpoint>] = &[
    Route::new(
        "/v1/tasks",
        &[
            (Method::GET, Auth::Bearer, Endpoint::List),
            (Method::POST, Auth::Bearer, Endpoint::Create),
        ],
    ),
    Route::new(
        "/v1/tasks/{id}",
        &[
            (Method::GET, Auth::Bearer, Endpoint::Get),
            (Method::PUT, Auth::Bearer, Endpoint::Replace),
            (Method::PATCH, Auth::Bearer, Endpoint::Patch),
            (Method::DELETE, Auth::Bearer, Endpoint::Delete),
        ],
    ),
    Route::new(
        "/v1/categories",
        &[
            (Method::GET, Auth::Bearer, Endpoint::Category(C::List)),
            (Method::POST, Auth::Bearer, Endpoint::Category(C::Create)),
        ],
    ),
    Route::new(
        "/v1/categories/{id}",
        &[
            (Method::GET, Auth::Bearer, Endpoint::Category(C::Get)),
            (Method::PATCH, Auth::Bearer, Endpoint::Category(C::Patch)),
            (Method::DELETE, Auth::Bearer, Endpoint::Category(C::Delete)),
        ],
    ),
];

/// The function's entry point: every request, through its route table.
pub async fn handle(app: &App, req: Request) -> Response {
    app.serve(ROUTES, req).await
}

impl Handler for Endpoint {
    async fn answer(self, call: Call<'_, '_, Self>) -> Answer {
        let (app, caller, route, req) = (call.app, call.caller, call.route, call.req);
        let bearer = caller.bearer()?;
        match self {
            Endpoint::Category(endpoint) => {
                // Category writes carry no session condition: the standing comes first.
                bearer.confirm().await?;
                categories::handle(app, bearer.user(), endpoint, &route, &req).await
            }
            // Boxed: the write paths hold the most state across their calls; unboxed, the
            // handler's future overflows a test thread's stack (debug builds).
            endpoint => Box::pin(answer(app, bearer, endpoint, &route, &req)).await,
        }
    }
}

async fn answer(
    app: &App,
    bearer: &mut Bearer<'_>,
    endpoint: Endpoint,
    route: &Matched<Endpoint>,
    req: &Request,
) -> Result<Response, ApiError> {
    // A malformed id names no task: 404 like any other missing task.
    let id = || {
        route
            .param("id")
            .and_then(TaskId::parse)
            .ok_or(ApiError::NotFound("no such task"))
    };
    let tasks = app.tasks();
    match endpoint {
        Endpoint::List => {
            let query = ListQuery::parse(req.uri().query())?;
            let listing = tasks.list(bearer, &query, &app.cursors).await?;
            // Serialized straight from the views (no `serde_json::Value` tree in between).
            Ok(json_response(StatusCode::OK, &listing.view()))
        }
        Endpoint::Create => create(app, bearer, req).await,
        Endpoint::Get => task_response(StatusCode::OK, &tasks.get(bearer, id()?).await?),
        Endpoint::Replace => put(app, bearer, route, req).await,
        Endpoint::Patch => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            let patch = TaskPatch::parse(json_object(req)?)?;
            let task = tasks.update(bearer, id, &if_match, Change::Merge(&patch));
            task_response(StatusCode::OK, &task.await?)
        }
        Endpoint::Delete => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            tasks.delete(bearer, id, &if_match).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Endpoint::Category(_) => Err(ApiError::Internal("a category route in answer".into())),
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

/// `POST /v1/tasks`; with an `Idempotency-Key`, a retry gets the first answer again.
async fn create(app: &App, bearer: &mut Bearer<'_>, req: &Request) -> Result<Response, ApiError> {
    // A malformed key is refused before the body is read: the client meant this create to
    // be safe to retry.
    let key = idempotency_key(req)?;
    let TaskCreate(fields) = TaskCreate::parse(json_object(req)?)?;
    let task = Task::new(fields);
    let Some(key) = key else {
        app.tasks().create(bearer, &task).await?;
        return created_response(&task);
    };
    let first = serde_json::to_string(&task.view())
        .map_err(|e| ApiError::failed("serializing a task", e))?;
    let fingerprint = Fingerprint::of(req.body().as_ref());
    let answer = app
        .tasks()
        .create_once(bearer, &task, &key, (fingerprint, first));
    match answer.await? {
        KeyedAnswer::Created(task) => created_response(&task),
        KeyedAnswer::Replay(earlier) => replay(&earlier),
    }
}

/// The first answer of a create, again: 201 with its body as recorded, `Location` and the
/// `ETag` every created task has (version 1).
fn replay(earlier: &KeyedCreate) -> Result<Response, ApiError> {
    let body = earlier.response.clone();
    let response = text_response(StatusCode::CREATED, "application/json", body);
    let response = with_header(response, header::ETAG, "\"1\"")?;
    let location = format!("/v1/tasks/{}", earlier.task_id);
    with_header(response, header::LOCATION, location)
}

/// `PUT /v1/tasks/{id}`: the id must be one a client may choose (a canonical UUIDv7 at most a
/// day ahead; else 422, with the body's field errors) because the PUT may create; GET, PATCH
/// and DELETE keep answering 404 for any id that names no task.
async fn put(
    app: &App,
    bearer: &mut Bearer<'_>,
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
    match app.tasks().put(bearer, id, &precondition, &fields).await? {
        Put::Created(task) => created_response(&task),
        Put::Replaced(task) => task_response(StatusCode::OK, &task),
    }
}
