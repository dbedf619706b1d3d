//! Accounts: user items (`user_id = <uuid>`, `sk = USER`) and email reservations
//! (`user_id = EMAIL#<email>`, `sk = EMAIL`, `owner = <uuid>`), always written and deleted
//! together in one transaction, so an email can never belong to two users.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::writes::{build, key};
use super::{PK, SK, Store};
use crate::auth::{Email, User, UserId, UserName};
use crate::error::ApiError;

pub const USER_SK: &str = "USER";
const EMAIL_SK: &str = "EMAIL";

/// Partition key of an email's reservation.
pub fn email_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}

#[derive(Serialize, Deserialize)]
struct UserItem {
    user_id: String,
    sk: String,
    email: String,
    name: String,
    password_hash: String,
    created_at: String,
}

#[derive(Serialize, Deserialize)]
struct EmailItem {
    user_id: String,
    sk: String,
    owner: String,
}

/// The stored form of a user.
pub(super) fn user_item(
    user: &User,
    password_hash: String,
) -> Result<HashMap<String, AttributeValue>, ApiError> {
    let created_at = user
        .created_at
        .format(&Rfc3339)
        .map_err(|e| ApiError::Internal(format!("formatting a timestamp: {e}")))?;
    Ok(serde_dynamo::to_item(UserItem {
        user_id: user.id.to_string(),
        sk: USER_SK.into(),
        email: user.email.to_string(),
        name: user.name.as_str().to_string(),
        password_hash,
        created_at,
    })?)
}

/// The stored reservation of a user's email.
pub(super) fn email_item(user: &User) -> Result<HashMap<String, AttributeValue>, ApiError> {
    Ok(serde_dynamo::to_item(EmailItem {
        user_id: email_pk(&user.email),
        sk: EMAIL_SK.into(),
        owner: user.id.to_string(),
    })?)
}

/// A condition-check item of a transaction: the user item must (still) exist.
pub(super) fn user_exists_check(
    store: &Store,
    user: UserId,
) -> Result<TransactWriteItem, ApiError> {
    let check = build(
        ConditionCheck::builder()
            .table_name(store.table())
            .set_key(Some(key(user.to_string(), USER_SK)))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build(),
    )?;
    Ok(TransactWriteItem::builder().condition_check(check).build())
}

impl Store {
    /// Whether the user item exists (consistent read, key only).
    pub async fn user_exists(&self, user: UserId) -> Result<bool, ApiError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .key(PK, AttributeValue::S(user.to_string()))
            .key(SK, AttributeValue::S(USER_SK.into()))
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .consistent_read(true)
            .send()
            .await?;
        Ok(output.item.is_some())
    }

    /// Stores a new user and reserves its email in one transaction. 409 if the email is taken
    /// (by anyone, including a concurrent registration that won).
    pub async fn create_user(&self, user: &User, password_hash: String) -> Result<(), ApiError> {
        let user_item = user_item(user, password_hash)?;
        let email_item = email_item(user)?;
        let put = |item| {
            build(
                Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", PK)
                    .build(),
            )
            .map(|put| TransactWriteItem::builder().put(put).build())
        };
        match self
            .transact(vec![put(email_item)?, put(user_item)?])
            .await?
        {
            Ok(()) => Ok(()),
            Err(_) => Err(ApiError::Conflict(
                "an account with this email already exists",
            )),
        }
    }

    /// The user, if it exists (consistent read).
    pub async fn user(&self, id: UserId) -> Result<Option<User>, ApiError> {
        let output = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(id.to_string(), USER_SK)))
            .consistent_read(true)
            .send()
            .await?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: UserItem = serde_dynamo::from_item(item)?;
        let created_at = OffsetDateTime::parse(&item.created_at, &Rfc3339)
            .map_err(|e| ApiError::Internal(format!("stored created_at: {e}")))?;
        Ok(Some(User {
            id,
            email: Email::from_stored(item.email),
            name: UserName::from_stored(item.name),
            created_at,
        }))
    }

    /// The user owning `email` and its password hash (PHC string), if any.
    pub async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(UserId, String)>, ApiError> {
        let reservation = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(email_pk(email), EMAIL_SK)))
            .consistent_read(true)
            .send()
            .await?;
        let owner = match reservation.item {
            Some(item) => {
                let reservation: EmailItem = serde_dynamo::from_item(item)?;
                Some(UserId::parse(&reservation.owner).ok_or_else(|| {
                    ApiError::Internal("email reservation with a bad owner".into())
                })?)
            }
            None => None,
        };
        // Unknown emails make the same second read (of an item that cannot exist), so the
        // number of round trips does not tell them apart from known ones.
        let user_pk = owner.map_or_else(|| email_pk(email), |owner| owner.to_string());
        let user = self
            .client()
            .get_item()
            .table_name(self.table())
            .set_key(Some(key(user_pk, USER_SK)))
            .projection_expression("password_hash")
            .consistent_read(true)
            .send()
            .await?;
        let hash = user
            .item
            .and_then(|mut item| item.remove("password_hash"))
            .and_then(|hash| hash.as_s().ok().cloned());
        Ok(owner.zip(hash))
    }

    /// Deletes an account: first the user item and its email reservation together (its access
    /// tokens stop working and the email is free again at once), then every other item of the
    /// user's partition (tasks, counts, refresh tokens). `false` if the user did not exist.
    pub async fn delete_account(&self, id: UserId) -> Result<bool, ApiError> {
        let Some(user) = self.user(id).await? else {
            return Ok(false);
        };
        let delete_user = build(
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(key(id.to_string(), USER_SK)))
                .condition_expression("attribute_exists(#pk)")
                .expression_attribute_names("#pk", PK)
                .build(),
        )?;
        // Only this user's reservation: never one another account made after a change.
        let delete_email = build(
            Delete::builder()
                .table_name(self.table())
                .set_key(Some(key(email_pk(&user.email), EMAIL_SK)))
                .condition_expression("attribute_not_exists(#pk) OR #owner = :owner")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":owner", AttributeValue::S(id.to_string()))
                .build(),
        )?;
        let items = vec![
            TransactWriteItem::builder().delete(delete_user).build(),
            TransactWriteItem::builder().delete(delete_email).build(),
        ];
        if self.transact(items).await?.is_err() {
            // Deleted concurrently by another request.
            return Ok(false);
        }
        let rest = self.keys_of(&id.to_string(), None).await?;
        self.delete_all(rest).await?;
        Ok(true)
    }
}
