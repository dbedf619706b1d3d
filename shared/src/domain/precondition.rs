//! Preconditions of writes (`If-Match`, and `If-None-Match: *` of a PUT that may create),
//! as the services compare versions with them. The HTTP edge reads them from headers
//! (`http::precondition`).

/// The `If-Match` precondition of a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: the write applies to whatever version is current (retried on races).
    Any,
    /// `If-Match: *`: the task must exist (as for any write).
    Exists,
    /// One or more versions (`"3"` or `"3", "4"`): the current version must be one of them.
    Versions(Vec<u64>),
}

impl IfMatch {
    pub fn matches(&self, version: u64) -> bool {
        match self {
            Self::Any | Self::Exists => true,
            Self::Versions(versions) => versions.contains(&version),
        }
    }

    /// As [`Self::matches`] for a stored task whose version may be unreadable: then only a
    /// precondition that names no version holds.
    pub fn matches_stored(&self, version: Option<u64>) -> bool {
        match version {
            Some(version) => self.matches(version),
            None => !matches!(self, Self::Versions(_)),
        }
    }
}

/// The `If-None-Match` precondition of a PUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfNoneMatch {
    /// No header.
    Absent,
    /// `If-None-Match: *`: create only; an existing task is a 412.
    Any,
}

/// What the preconditions of a PUT (which may create, see docs/API.md) allow it to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutPrecondition {
    /// Neither header: replace the task, or create it if there is none.
    Upsert,
    /// `If-None-Match: *`: create only; an existing task is a 412.
    CreateOnly,
    /// `If-Match`: replace only; a missing task is a 404.
    ReplaceOnly(IfMatch),
}

impl PutPrecondition {
    /// The `If-Match` an existing task is replaced under (`None`: it must not exist).
    pub fn if_match(&self) -> Option<&IfMatch> {
        match self {
            Self::Upsert => Some(&IfMatch::Any),
            Self::CreateOnly => None,
            Self::ReplaceOnly(if_match) => Some(if_match),
        }
    }

    /// Whether a missing task is created (else 404).
    pub fn creates(&self) -> bool {
        !matches!(self, Self::ReplaceOnly(_))
    }
}
