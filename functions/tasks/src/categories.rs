//! The Categories section of docs/API.md: `/v1/categories` and `/v1/categories/{id}`, served
//! by the category service (`taskline::services::categories`).

use lambda_http::http::{StatusCode, header};
use serde_json::json;
use taskline::App;
use taskline::categories::{Category, CategoryCreate, CategoryId, CategoryPatch};
use taskline::domain::{IfMatch, UserId};
use taskline::error::ApiError;
use taskline::http::{Matched, Request, Response, empty, json_object, json_response, with_header};

/// The category endpoints (of the function's `Endpoint::Category`).
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    List,
    Create,
    Get,
    Patch,
    Delete,
}

/// Serves one category endpoint for `user` (its standing confirmed).
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
            .ok_or(ApiError::NotFound("no such category"))
    };
    let categories = app.categories(user);
    match endpoint {
        Endpoint::List => {
            let listed = categories.list().await?;
            let items: Vec<_> = listed.iter().map(Category::view).collect();
            Ok(json_response(StatusCode::OK, &json!({ "items": items })))
        }
        Endpoint::Create => {
            let CategoryCreate(fields) = CategoryCreate::parse(json_object(req)?)?;
            let category = Category::new(fields);
            categories.create(&category).await?;
            let response = category_response(StatusCode::CREATED, &category)?;
            let location = format!("/v1/categories/{}", category.id);
            with_header(response, header::LOCATION, location)
        }
        Endpoint::Get => category_response(StatusCode::OK, &categories.get(id()?).await?),
        Endpoint::Patch => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            let patch = CategoryPatch::parse(json_object(req)?)?;
            let category = categories.update(id, &if_match, &patch).await?;
            category_response(StatusCode::OK, &category)
        }
        Endpoint::Delete => {
            let (id, if_match) = (id()?, IfMatch::from_request(req)?);
            categories.delete(id, &if_match).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
    }
}

/// A response carrying one category and its `ETag`.
fn category_response(status: StatusCode, category: &Category) -> Result<Response, ApiError> {
    with_header(
        json_response(status, &category.view()),
        header::ETAG,
        category.etag(),
    )
}
