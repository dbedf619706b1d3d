//! The ids of the domain: who owns an item, which session it belongs to. Plain values (no
//! HTTP, no store): every layer above uses them.

use std::fmt;

use uuid::Uuid;

/// The constructors every UUIDv7 id shares: a fresh one, one parsed from any UUID spelling,
/// and the conversions to and from its UUID (a refresh token or a stored item names one; no
/// check that what it names exists).
macro_rules! uuid_v7_id {
    ($id:ident) => {
        impl $id {
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn parse(s: &str) -> Option<Self> {
                Uuid::try_parse(s).ok().map(Self)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

/// A UUIDv7 in canonical form (lowercase, hyphenated), or `None`: the ids the API hands out
/// and reads back from paths and bodies, so that one item has exactly one spelling.
pub fn canonical_v7(s: &str) -> Option<Uuid> {
    let uuid = Uuid::try_parse(s).ok()?;
    (uuid.get_version_num() == 7 && uuid.hyphenated().to_string() == s).then_some(uuid)
}

/// What every id the API hands out shares (a task's, a category's): a fresh UUIDv7, one parsed
/// from its one spelling (a path segment, body field or stored value; anything but a canonical
/// UUIDv7 is `None`), and `Display` in that spelling.
macro_rules! canonical_v7_id {
    ($id:ident) => {
        impl $id {
            pub fn generate() -> Self {
                Self(::uuid::Uuid::now_v7())
            }

            pub fn parse(s: &str) -> Option<Self> {
                $crate::domain::canonical_v7(s).map(Self)
            }

            pub fn as_uuid(&self) -> ::uuid::Uuid {
                self.0
            }
        }

        impl ::std::fmt::Display for $id {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }
    };
}
pub(crate) use canonical_v7_id;

/// A category's id: a canonical UUIDv7, like a task's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(Uuid);

canonical_v7_id!(CategoryId);

/// A user's id (UUIDv7). Only ever built from a verified token or a new registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

uuid_v7_id!(UserId);

impl serde::Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}

/// The id of a token family (one login and every rotation after it); written without
/// hyphens (the `sid` of access tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FamilyId(Uuid);

uuid_v7_id!(FamilyId);

impl FamilyId {
    /// When the family was generated (Unix seconds), from its UUIDv7; `None` for ids of
    /// another version.
    pub fn generated_at(&self) -> Option<i64> {
        let (secs, _) = self.0.get_timestamp()?.to_unix();
        i64::try_from(secs).ok()
    }
}

impl fmt::Display for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.as_simple().fmt(f)
    }
}
