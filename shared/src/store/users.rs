//! User items: `user_id = <uuid>`, `sk = USER`.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{PK, SK, Store};
use crate::auth::UserId;
use crate::error::ApiError;

pub const USER_SK: &str = "USER";

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
}
