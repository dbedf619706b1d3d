//! The Categories section of docs/API.md: `/v1/categories` and `/v1/categories/{id}`.
//! Writes are optimistic like the tasks' (read, check `If-Match`, write conditionally on the
//! version read, retry a lost race).

use lambda_http::http::{StatusCode, header};
use serde_json::json;
use taskline::App;
use taskline::auth::{UserId, unix_now};
use taskline::categories::{Category, CategoryCreate, CategoryId, CategoryPatch};
use taskline::error::ApiError;
use taskline::http::{
    IfMatch, Matched, Request, Response, empty, json_object, json_response, with_header,
};
use taskline::store::{CategoryCreation, CategoryWrite, StoredCategory, backoff};

use crate::{WRITE_ATTEMPTS, account_gone};

/// The category endpoints (of the function's `Endpoint::Category`).
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    List,
    Create,
    Get,
    Patch,
    Delete,
}

/// Serves one category endpoint for `user`.
pub async fn handle(
    app: &App,
    user: UserId,
    endpoint: Endpoint,
    route: &Matched<crate::Endpoint>,
    req: &Request,
) -> Result<Response, ApiError> {
    // A malformed id names no category: 404 like any other missing one.
    let id = || {
        route
            .param("id")
            .and_then(CategoryId::parse)
            .ok_or_else(not_found)
    };
    match endpoint {
        Endpoint::List => list(app, user).await,
        Endpoint::Create => create(app, user, req).await,
        Endpoint::Get => {
            let category = app
                .store
                .get_category(user, id()?)
                .await?
                .ok_or_else(not_found)?;
            category_response(StatusCode::OK, &category)
        }
        Endpoint::Patch => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            let patch = CategoryPatch::parse(json_object(req)?)?;
            update(app, user, id, &if_match, &patch).await
        }
        Endpoint::Delete => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            delete(app, user, id, &if_match).await
        }
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("no such category")
}

fn name_taken() -> ApiError {
    ApiError::Conflict("a category with this name exists already (names ignore case)")
}

fn lost_every_race() -> ApiError {
    ApiError::Conflict("the category is being changed by other requests; retry")
}

/// A response carrying one category and its `ETag`.
fn category_response(status: StatusCode, category: &Category) -> Result<Response, ApiError> {
    with_header(
        json_response(status, &category.view()),
        header::ETAG,
        category.etag(),
    )
}

async fn create(app: &App, user: UserId, req: &Request) -> Result<Response, ApiError> {
    let CategoryCreate(fields) = CategoryCreate::parse(json_object(req)?)?;
    let category = Category::new(fields);
    match app.store.create_category(user, &category).await? {
        CategoryCreation::Created => {}
        CategoryCreation::AccountGone => return Err(account_gone()),
        CategoryCreation::NameTaken => return Err(name_taken()),
        CategoryCreation::LimitReached => {
            return Err(ApiError::Conflict(
                "at most 100 categories per user: delete one first",
            ));
        }
        CategoryCreation::IdCollision => {
            return Err(ApiError::Internal("category id collision".into()));
        }
    }
    let response = category_response(StatusCode::CREATED, &category)?;
    with_header(
        response,
        header::LOCATION,
        format!("/v1/categories/{}", category.id),
    )
}

async fn list(app: &App, user: UserId) -> Result<Response, ApiError> {
    let categories = app.store.list_categories(user).await?;
    let items: Vec<_> = categories.iter().map(Category::view).collect();
    Ok(json_response(StatusCode::OK, &json!({ "items": items })))
}

/// Applies `patch` to the current category, conditionally on the version read. A patch that
/// changes nothing is not a new version.
async fn update(
    app: &App,
    user: UserId,
    id: CategoryId,
    if_match: &IfMatch,
    patch: &CategoryPatch,
) -> Result<Response, ApiError> {
    for attempt in 1..=WRITE_ATTEMPTS {
        let current = app
            .store
            .get_category(user, id)
            .await?
            .ok_or_else(not_found)?;
        if !if_match.matches(current.version) {
            return Err(ApiError::PreconditionFailed);
        }
        let fields = patch.apply(&current.fields);
        if fields == current.fields {
            return category_response(StatusCode::OK, &current);
        }
        let next = current.changed(fields);
        match app.store.update_category(user, &current, &next).await? {
            CategoryWrite::Written => return category_response(StatusCode::OK, &next),
            CategoryWrite::Conflict => backoff(attempt).await,
            CategoryWrite::NameTaken => return Err(name_taken()),
            CategoryWrite::AccountGone => return Err(account_gone()),
        }
    }
    Err(lost_every_race())
}

/// Marks the category deleted (from then on it is gone for every read), detaches its tasks,
/// then removes it. A `DELETE` cut short (a timeout) is finished by the next one, which finds
/// the marked category: so a retried `DELETE` answers 204 too, until the category is gone.
async fn delete(
    app: &App,
    user: UserId,
    id: CategoryId,
    if_match: &IfMatch,
) -> Result<Response, ApiError> {
    let mut marked = false;
    for attempt in 1..=WRITE_ATTEMPTS {
        let current = match app
            .store
            .read_category(user, id)
            .await?
            .ok_or_else(not_found)?
        {
            StoredCategory::Deleting => {
                // Resumed: listed among the categories being deleted (a no-op unless the
                // deletion was begun by a version that kept no such list).
                app.store.list_as_deleting(user, id).await?;
                marked = true;
                break;
            }
            StoredCategory::Live(current) => current,
        };
        if !if_match.matches(current.version) {
            return Err(ApiError::PreconditionFailed);
        }
        match app
            .store
            .mark_category_deleting(user, &current, unix_now())
            .await?
        {
            CategoryWrite::Written => {
                marked = true;
                break;
            }
            CategoryWrite::Conflict | CategoryWrite::NameTaken => backoff(attempt).await,
            CategoryWrite::AccountGone => return Err(account_gone()),
        }
    }
    if !marked {
        return Err(lost_every_race());
    }
    app.store.detach_category_tasks(user, id).await?;
    app.store.finish_category_deletion(user, id).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
