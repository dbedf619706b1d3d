//! The query of `GET /v1/tasks`: filters, order, page size and cursor. Anything malformed
//! (a bad value, a repeated or unknown parameter) is a 400, never silently ignored.

use super::{MAX_TITLE_CHARS, Priority};
use crate::domain::{CategoryId, Timestamp};
use crate::error::ApiError;

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 20;
/// Largest page.
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Newest first (the default).
    #[default]
    Desc,
    Asc,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desc => "desc",
            Self::Asc => "asc",
        }
    }
}

/// What a listing is ordered by; every order breaks ties by creation (the task id, a UUIDv7),
/// in the listing's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// By creation (the default).
    #[default]
    Created,
    /// By due date; tasks without one come last in both directions.
    Due,
    /// By priority, ranked low < medium < high.
    Priority,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Due => "due",
            Self::Priority => "priority",
        }
    }
}

/// What selects and orders the tasks of a listing: a cursor is valid only for the same filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilters {
    pub completed: Option<bool>,
    pub priority: Option<Priority>,
    /// Lowercased title substring; `None` when absent or empty.
    pub q: Option<String>,
    pub order: Order,
    pub category: Option<CategoryFilter>,
    pub sort: Sort,
    /// Only tasks due strictly before this time (tasks without a due date never match).
    pub due_before: Option<Timestamp>,
    /// Only tasks due strictly after this time (tasks without a due date never match).
    pub due_after: Option<Timestamp>,
    /// `true`: only tasks due before the listing's time and not completed; `false`: only the
    /// others (no due date, due at or after that time, or completed).
    pub overdue: Option<bool>,
}

/// `category=<id>` (that category's tasks) or `category=none` (uncategorised tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategoryFilter {
    Uncategorised,
    Category(CategoryId),
}

impl CategoryFilter {
    fn parse(value: &str) -> Result<Self, ApiError> {
        if value == "none" {
            return Ok(Self::Uncategorised);
        }
        CategoryId::parse(value)
            .map(Self::Category)
            .ok_or_else(|| bad("category must be a category id or none"))
    }

    /// The value of the query parameter (what a cursor binds).
    pub fn as_param(&self) -> String {
        match self {
            Self::Uncategorised => "none".into(),
            Self::Category(id) => id.to_string(),
        }
    }
}

impl ListFilters {
    /// Whether a filter may drop items read (then a page can need several reads).
    pub fn is_filtered(&self) -> bool {
        self.completed.is_some()
            || self.priority.is_some()
            || self.q.is_some()
            || self.category.is_some()
            || self.due_before.is_some()
            || self.due_after.is_some()
            || self.overdue.is_some()
    }
}

/// A parsed listing request. `cursor` is still sealed: opening it needs the user and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filters: ListFilters,
    pub limit: usize,
    pub cursor: Option<String>,
}

impl ListQuery {
    /// Parses a raw query string (`a=1&b=2`, percent-encoded).
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|_| bad("the query string is malformed"))?;
        let mut query = Self {
            filters: ListFilters::default(),
            limit: DEFAULT_LIMIT,
            cursor: None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &pairs {
            if seen.contains(&name.as_str()) {
                return Err(bad(format!("query parameter {name} is repeated")));
            }
            seen.push(name);
            query.set(name, value)?;
        }
        Ok(query)
    }

    /// Sets one parameter.
    fn set(&mut self, name: &str, value: &str) -> Result<(), ApiError> {
        match name {
            "completed" => self.filters.completed = Some(parse_bool(name, value)?),
            "overdue" => self.filters.overdue = Some(parse_bool(name, value)?),
            "due_before" => self.filters.due_before = Some(parse_time(name, value)?),
            "due_after" => self.filters.due_after = Some(parse_time(name, value)?),
            "sort" => {
                self.filters.sort = match value {
                    "created" => Sort::Created,
                    "due" => Sort::Due,
                    "priority" => Sort::Priority,
                    _ => return Err(bad("sort must be one of created, due, priority")),
                }
            }
            "priority" => {
                self.filters.priority = Some(
                    Priority::parse(value)
                        .ok_or_else(|| bad("priority must be one of low, medium, high"))?,
                )
            }
            "q" => self.filters.q = parse_q(value)?,
            "order" => {
                self.filters.order = match value {
                    "desc" => Order::Desc,
                    "asc" => Order::Asc,
                    _ => return Err(bad("order must be desc or asc")),
                }
            }
            "category" => self.filters.category = Some(CategoryFilter::parse(value)?),
            "limit" => self.limit = parse_limit(value)?,
            "cursor" => {
                if value.is_empty() {
                    return Err(bad("cursor must not be empty"));
                }
                self.cursor = Some(value.to_string())
            }
            other => {
                return Err(bad(format!(
                    "unknown query parameter {other:?} (known: completed, priority, q, category, \
                     due_before, due_after, overdue, sort, order, limit, cursor)"
                )));
            }
        }
        Ok(())
    }
}

/// `true` or `false`, nothing else.
fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(format!("{name} must be true or false"))),
    }
}

/// An RFC 3339 time within 0000..=9999 UTC. A `+` of an offset must be sent as `%2B`: in a
/// query string a bare `+` means a space.
fn parse_time(name: &str, value: &str) -> Result<Timestamp, ApiError> {
    Timestamp::parse_rfc3339(value).map_err(|e| {
        let hint = if value.contains(' ') {
            " (a + in a query string means a space: send an offset's + as %2B)"
        } else {
            ""
        };
        bad(format!("{name} {}{hint}", e.message()))
    })
}

/// `q`: trimmed, lowercased, at most a title long; empty means no filter.
fn parse_q(value: &str) -> Result<Option<String>, ApiError> {
    let q = value.trim();
    if q.chars().count() > MAX_TITLE_CHARS {
        return Err(bad(format!(
            "q must be at most {MAX_TITLE_CHARS} characters"
        )));
    }
    Ok((!q.is_empty()).then(|| q.to_lowercase()))
}

/// `limit`: plain digits, 1 to [`MAX_LIMIT`].
fn parse_limit(value: &str) -> Result<usize, ApiError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n) && value.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| bad(format!("limit must be an integer from 1 to {MAX_LIMIT}")))
}

fn bad(detail: impl Into<String>) -> ApiError {
    ApiError::BadRequest(detail.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_a_query() {
        let q = ListQuery::parse(None).unwrap();
        assert_eq!(q.limit, 20);
        assert_eq!(q.filters, ListFilters::default());
        assert_eq!(q.filters.order, Order::Desc);
        assert!(q.cursor.is_none());
    }

    #[test]
    fn reads_every_parameter() {
        let q = ListQuery::parse(Some(
            "completed=false&priority=high&q=%20Milk%20&order=asc&limit=100&cursor=abc",
        ))
        .unwrap();
        assert_eq!(q.filters.completed, Some(false));
        assert_eq!(q.filters.priority, Some(Priority::High));
        assert_eq!(q.filters.q.as_deref(), Some("milk"));
        assert_eq!(q.filters.order, Order::Asc);
        assert_eq!(q.limit, 100);
        assert_eq!(q.cursor.as_deref(), Some("abc"));
        assert!(q.filters.is_filtered());
        assert_eq!(ListQuery::parse(Some("q=")).unwrap().filters.q, None);
        let id = CategoryId::generate();
        let category = |raw: &str| ListQuery::parse(Some(raw)).unwrap().filters.category;
        assert_eq!(
            category(&format!("category={id}")),
            Some(CategoryFilter::Category(id))
        );
        assert_eq!(
            category("category=none"),
            Some(CategoryFilter::Uncategorised)
        );
    }

    #[test]
    fn reads_due_filters_and_sorts() {
        let q = ListQuery::parse(Some(
            "due_before=2026-12-31T10:00:00%2B02:00&due_after=2026-01-01T00:00:00Z&overdue=true&sort=due",
        ))
        .unwrap();
        let f = &q.filters;
        assert_eq!(
            f.due_before.map(Timestamp::to_rfc3339).as_deref(),
            Some("2026-12-31T08:00:00.000Z")
        );
        assert_eq!(
            f.due_after.map(Timestamp::to_rfc3339).as_deref(),
            Some("2026-01-01T00:00:00.000Z")
        );
        assert_eq!(
            (f.overdue, f.sort, f.order),
            (Some(true), Sort::Due, Order::Desc)
        );
        assert!(f.is_filtered());
        let sort = |raw: &str| ListQuery::parse(Some(raw)).unwrap().filters.sort;
        assert_eq!(sort("sort=created"), Sort::Created);
        assert_eq!(sort("sort=priority&order=asc"), Sort::Priority);
        assert_eq!(ListQuery::parse(None).unwrap().filters.sort, Sort::Created);
        assert!(
            !ListQuery::parse(Some("sort=due"))
                .unwrap()
                .filters
                .is_filtered()
        );
    }

    #[test]
    fn an_unencoded_plus_in_a_time_is_explained() {
        let err = ListQuery::parse(Some("due_before=2026-12-31T10:00:00+02:00")).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("%2B"), "{err}");
    }

    #[test]
    fn malformed_parameters_are_400() {
        for raw in [
            "limit=abc",
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=+5",
            "limit=",
            "priority=urgent",
            "completed=maybe",
            "completed=1",
            "order=sideways",
            "cursor=",
            "limit=5&limit=6",
            "colour=red",
            "category=",
            "category=work",
            "category=NONE",
            "sort=title",
            "sort=",
            "sort=due&sort=due",
            "overdue=yes",
            "overdue=",
            "due_before=tomorrow",
            "due_before=2026-12-31",
            "due_after=",
            "due_after=10000-01-01T00:00:00Z",
            "due_before=9999-12-31T23:59:59-23:59",
        ] {
            let err = ListQuery::parse(Some(raw)).unwrap_err();
            assert_eq!(err.status(), 400, "{raw}");
        }
        assert!(ListQuery::parse(Some(&format!("q={}", "a".repeat(256)))).is_err());
    }
}
