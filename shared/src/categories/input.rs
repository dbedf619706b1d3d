//! Request bodies of the category writes (`CategoryCreate`, `CategoryPatch`), with every field
//! error collected.

use serde_json::{Map, Value};

use super::{CategoryFields, CategoryName, Color};
use crate::error::ApiError;
use crate::fields::Fields;
use crate::text::string;

/// Fields a client may never write (sending them is a 422, never an assignment).
pub const SERVER_OWNED_FIELDS: &[&str] = &[
    "id",
    "user_id",
    "task_count",
    "created_at",
    "updated_at",
    "version",
];

fn parse_name(value: &Value) -> Result<CategoryName, String> {
    CategoryName::parse(string(value)?)
}

fn parse_color(value: &Value) -> Result<Color, String> {
    Color::parse(string(value)?)
}

/// `POST /v1/categories`: `name` required, `color` optional (default `#3B82F6`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCreate(pub CategoryFields);

impl CategoryCreate {
    pub fn parse(body: Map<String, Value>) -> Result<Self, ApiError> {
        let mut f = Fields::new(body).read_only(SERVER_OWNED_FIELDS);
        let name = f.required("name", parse_name);
        let color = f.optional("color", Color::default(), parse_color);
        f.finish(|| {
            Some(Self(CategoryFields {
                name: name?,
                color: color?,
            }))
        })
    }
}

/// `PATCH /v1/categories/{id}`: a JSON merge patch of `name` and `color` (neither may be null).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CategoryPatch {
    pub name: Option<CategoryName>,
    pub color: Option<Color>,
}

impl CategoryPatch {
    pub fn parse(body: Map<String, Value>) -> Result<Self, ApiError> {
        let mut f = Fields::new(body).read_only(SERVER_OWNED_FIELDS);
        let name = f.non_null("name", parse_name);
        let color = f.non_null("color", parse_color);
        f.finish(|| {
            Some(Self {
                name: name?,
                color: color?,
            })
        })
    }

    /// The fields after this patch.
    pub fn apply(&self, current: &CategoryFields) -> CategoryFields {
        CategoryFields {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            color: self.color.clone().unwrap_or_else(|| current.color.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fields a body's 422 names.
    fn refused<T: std::fmt::Debug>(parsed: Result<T, ApiError>) -> Vec<String> {
        let Err(ApiError::Validation(errors)) = parsed else {
            panic!("expected 422, got {parsed:?}")
        };
        errors.into_iter().map(|e| e.field).collect()
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn create_and_patch_parse_as_the_contract_says() {
        let created = CategoryCreate::parse(object(json!({"name": "Home"}))).unwrap();
        assert_eq!(created.0.color.as_str(), super::super::DEFAULT_COLOR);
        let body = object(json!({"task_count": 3, "color": "red", "extra": 1}));
        assert_eq!(
            refused(CategoryCreate::parse(body)),
            ["task_count", "name", "color", "extra"]
        );

        let patch = CategoryPatch::parse(object(json!({"color": "#ffffff"}))).unwrap();
        let next = patch.apply(&created.0);
        assert_eq!(
            (next.name.as_str(), next.color.as_str()),
            ("Home", "#FFFFFF")
        );
        assert_eq!(
            CategoryPatch::parse(Map::new()).unwrap().apply(&created.0),
            created.0
        );
        let body = object(json!({"name": null, "colour": "#000000"}));
        assert_eq!(refused(CategoryPatch::parse(body)), ["name", "colour"]);
    }
}
