//! The small core every aggregate's handle works through: the DynamoDB client and the
//! table (defined in template.yaml) that holds every item.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;

#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The single-item and query requests of the aggregates, on the table.
    pub(super) fn get_item(&self) -> GetItemFluentBuilder {
        self.client.get_item().table_name(&self.table)
    }

    pub(super) fn put_item(&self) -> PutItemFluentBuilder {
        self.client.put_item().table_name(&self.table)
    }

    pub(super) fn update_item(&self) -> UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table)
    }

    pub(super) fn delete_item(&self) -> DeleteItemFluentBuilder {
        self.client.delete_item().table_name(&self.table)
    }

    pub(super) fn query(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.table)
    }
}
