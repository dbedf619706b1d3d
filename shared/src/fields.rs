//! Reading the fields of a JSON object input one by one (absent, `null` or a value), every
//! problem collected, unknown and read-only fields refused: no mass assignment. A leaf below
//! the domain types that parse their inputs with it and the HTTP edge that builds the object.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::error::{ApiError, FieldError};

/// A field of a body as sent: absent, explicitly `null`, or a value that parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    Absent,
    Null,
    Value(T),
}

/// Parses the fields of a JSON object one by one, collecting every problem; `finish` turns
/// leftovers (unknown or server-owned fields) into errors too, so nothing is mass-assigned.
#[derive(Debug)]
pub struct Fields {
    map: Map<String, Value>,
    seen: BTreeSet<String>,
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn new(map: Map<String, Value>) -> Self {
        Self {
            map,
            seen: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    /// Fields the server owns: sending them is a validation error, never an assignment.
    pub fn read_only(mut self, names: &[&str]) -> Self {
        for name in names {
            if self.map.contains_key(*name) {
                self.seen.insert((*name).to_string());
                self.errors
                    .push(FieldError::new(*name, "is read-only and cannot be set"));
            }
        }
        self
    }

    /// A field that may be absent or `null`. `None` means it was invalid (error recorded).
    pub fn field<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Field<T>> {
        self.seen.insert(name.to_string());
        match self.map.get(name) {
            None => Some(Field::Absent),
            Some(Value::Null) => Some(Field::Null),
            Some(value) => match parse(value) {
                Ok(parsed) => Some(Field::Value(parsed)),
                Err(message) => {
                    self.errors.push(FieldError::new(name, message));
                    None
                }
            },
        }
    }

    /// A field that must be present and not `null`.
    pub fn required<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.field(name, parse)? {
            Field::Value(value) => Some(value),
            Field::Absent | Field::Null => {
                self.errors.push(FieldError::new(name, "is required"));
                None
            }
        }
    }

    /// A field that may be absent (then `default`) but not `null`.
    pub fn optional<T>(
        &mut self,
        name: &str,
        default: T,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.field(name, parse)? {
            Field::Value(value) => Some(value),
            Field::Absent => Some(default),
            Field::Null => {
                self.errors.push(FieldError::new(name, "must not be null"));
                None
            }
        }
    }

    /// A merge-patch field that may be absent (kept) but not `null`. The outer `Option` is
    /// `None` when invalid (error recorded), the inner one when absent.
    pub fn non_null<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.field(name, parse)? {
            Field::Absent => Some(None),
            Field::Value(value) => Some(Some(value)),
            Field::Null => {
                self.errors.push(FieldError::new(name, "must not be null"));
                None
            }
        }
    }

    /// Ends parsing: unknown fields are errors; any error gives 422 with all of them.
    /// `build` assembles the result from the parsed fields (it returns `None` only when one
    /// of them failed, which has already been recorded).
    pub fn finish<T>(mut self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        let unknown: Vec<String> = self
            .map
            .keys()
            .filter(|k| !self.seen.contains(*k))
            .cloned()
            .collect();
        for name in unknown {
            self.errors
                .push(FieldError::new(name, "is not a known field"));
        }
        match build() {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ if self.errors.is_empty() => Err(ApiError::Internal(
                "field parsing failed without an error".into(),
            )),
            _ => Err(ApiError::Validation(self.errors)),
        }
    }
}
