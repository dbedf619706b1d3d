//! The expressions of DynamoDB requests (conditions, updates, key conditions, projections),
//! built from the attribute names of `keys` and typed values. The placeholders (`#name`,
//! `:value`) are generated here and declared with the request, so no call site writes one and
//! none can be used without its declaration (DynamoDB refuses a request with an undeclared or
//! unused placeholder at run time only).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::builders::{
    ConditionCheckBuilder, DeleteBuilder, GetBuilder, KeysAndAttributesBuilder, PutBuilder,
    UpdateBuilder,
};

/// A condition on an item.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cond {
    Exists(&'static str),
    NotExists(&'static str),
    /// `attribute = value`
    Eq(&'static str, AttributeValue),
    /// `attribute < value`
    Lt(&'static str, AttributeValue),
    /// `attribute <= value`
    Le(&'static str, AttributeValue),
    /// `attribute > value`
    Gt(&'static str, AttributeValue),
    /// `begins_with(attribute, value)`
    BeginsWith(&'static str, AttributeValue),
    /// `size(attribute) < value`
    SizeLt(&'static str, AttributeValue),
    /// `attribute >= value`
    Ge(&'static str, AttributeValue),
    /// `attribute <> value`
    Ne(&'static str, AttributeValue),
    /// `contains(attribute, value)`
    Contains(&'static str, AttributeValue),
    /// `attribute IN (values...)` (at most 100 values)
    In(&'static str, Vec<AttributeValue>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
}

impl Cond {
    pub fn and(self, other: Cond) -> Cond {
        match self {
            Cond::And(mut all) => {
                all.push(other);
                Cond::And(all)
            }
            first => Cond::And(vec![first, other]),
        }
    }

    pub fn or(self, other: Cond) -> Cond {
        match self {
            Cond::Or(mut any) => {
                any.push(other);
                Cond::Or(any)
            }
            first => Cond::Or(vec![first, other]),
        }
    }

    fn render(&self, expr: &mut Expr) -> String {
        let compare = |expr: &mut Expr, name, op, value: &AttributeValue| {
            format!("{} {op} {}", expr.name(name), expr.value(value.clone()))
        };
        match self {
            Cond::Exists(name) => format!("attribute_exists({})", expr.name(name)),
            Cond::NotExists(name) => format!("attribute_not_exists({})", expr.name(name)),
            Cond::Eq(name, value) => compare(expr, name, "=", value),
            Cond::Lt(name, value) => compare(expr, name, "<", value),
            Cond::Le(name, value) => compare(expr, name, "<=", value),
            Cond::Gt(name, value) => compare(expr, name, ">", value),
            Cond::Ge(name, value) => compare(expr, name, ">=", value),
            Cond::Ne(name, value) => compare(expr, name, "<>", value),
            Cond::Contains(name, value) => {
                format!(
                    "contains({}, {})",
                    expr.name(name),
                    expr.value(value.clone())
                )
            }
            Cond::In(name, values) => {
                let listed: Vec<String> = values
                    .iter()
                    .map(|value| expr.value(value.clone()))
                    .collect();
                format!("{} IN ({})", expr.name(name), listed.join(", "))
            }
            Cond::SizeLt(name, value) => {
                format!("size({}) < {}", expr.name(name), expr.value(value.clone()))
            }
            Cond::BeginsWith(name, value) => {
                format!(
                    "begins_with({}, {})",
                    expr.name(name),
                    expr.value(value.clone())
                )
            }
            Cond::And(all) => {
                let parts: Vec<String> = all
                    .iter()
                    .map(|cond| match cond {
                        // Grouped as built, though AND binds alike either way.
                        Cond::And(_) => format!("({})", cond.render(expr)),
                        _ => cond.render(expr),
                    })
                    .collect();
                parts.join(" AND ")
            }
            Cond::Or(any) => {
                let parts: Vec<String> = any.iter().map(|cond| cond.render(expr)).collect();
                format!("({})", parts.join(" OR "))
            }
        }
    }

    /// The condition rendered alone, with the names and values it declares.
    #[cfg(test)]
    pub(super) fn rendered(&self) -> (String, Names, Values) {
        let mut expr = Expr::default();
        let rendered = self.render(&mut expr);
        (rendered, expr.names, expr.values)
    }
}

/// The changes of an update: `SET` (to a value, or incremented), `ADD` and `DELETE` of values,
/// `REMOVE` of attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Changes {
    set: Vec<(&'static str, AttributeValue)>,
    set_if_absent: Vec<(&'static str, AttributeValue)>,
    increment: Vec<(&'static str, AttributeValue)>,
    tally: Vec<(&'static str, AttributeValue)>,
    add: Vec<(&'static str, AttributeValue)>,
    delete: Vec<(&'static str, AttributeValue)>,
    remove: Vec<&'static str>,
}

impl Changes {
    pub fn set(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.set.push((name, value));
        self
    }

    /// `SET name = if_not_exists(name, value)`: set unless it is set already.
    pub fn set_if_absent(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.set_if_absent.push((name, value));
        self
    }

    /// `SET name = name + by` (the attribute must exist).
    pub fn increment(mut self, name: &'static str, by: AttributeValue) -> Self {
        self.increment.push((name, by));
        self
    }

    /// `SET name = if_not_exists(name, 0) + by`: a count that starts at zero (unlike `ADD`,
    /// usable beside other `SET`s of one update).
    pub fn tally(mut self, name: &'static str, by: AttributeValue) -> Self {
        self.tally.push((name, by));
        self
    }

    /// Adds a number (created at it when absent) or the elements of a set.
    pub fn add(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.add.push((name, value));
        self
    }

    /// Takes the elements of `value` out of a set.
    pub fn delete(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.delete.push((name, value));
        self
    }

    pub fn remove(mut self, name: &'static str) -> Self {
        self.remove.push(name);
        self
    }

    fn render(&self, expr: &mut Expr) -> String {
        let mut clauses = Vec::new();
        let mut set: Vec<String> = Vec::new();
        for (name, value) in &self.set {
            set.push(format!(
                "{} = {}",
                expr.name(name),
                expr.value(value.clone())
            ));
        }
        for (name, value) in &self.set_if_absent {
            let name = expr.name(name);
            set.push(format!(
                "{name} = if_not_exists({name}, {})",
                expr.value(value.clone())
            ));
        }
        for (name, by) in &self.tally {
            let name = expr.name(name);
            let zero = expr.value(AttributeValue::N("0".into()));
            set.push(format!(
                "{name} = if_not_exists({name}, {zero}) + {}",
                expr.value(by.clone())
            ));
        }
        for (name, by) in &self.increment {
            let name = expr.name(name);
            set.push(format!("{name} = {name} + {}", expr.value(by.clone())));
        }
        if !set.is_empty() {
            clauses.push(format!("SET {}", set.join(", ")));
        }
        let mut pairs = |keyword: &str, pairs: &[(&'static str, AttributeValue)]| {
            if !pairs.is_empty() {
                let listed: Vec<String> = pairs
                    .iter()
                    .map(|(name, value)| {
                        format!("{} {}", expr.name(name), expr.value(value.clone()))
                    })
                    .collect();
                clauses.push(format!("{keyword} {}", listed.join(", ")));
            }
        };
        pairs("ADD", &self.add);
        pairs("DELETE", &self.delete);
        if !self.remove.is_empty() {
            let listed: Vec<String> = self.remove.iter().map(|name| expr.name(name)).collect();
            clauses.push(format!("REMOVE {}", listed.join(", ")));
        }
        clauses.join(" ")
    }
}

type Names = HashMap<String, String>;
type Values = HashMap<String, AttributeValue>;

/// The placeholders of one request: every name and value its expressions use.
#[derive(Debug, Default)]
pub(super) struct Expr {
    names: Names,
    values: Values,
}

impl Expr {
    /// The placeholder of an attribute (attribute names are identifiers: `#` + the name).
    fn name(&mut self, name: &'static str) -> String {
        let placeholder = format!("#{name}");
        self.names.insert(placeholder.clone(), name.to_string());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// The names and values, as a request declares them (`None` for none: DynamoDB refuses
    /// an empty map).
    fn declared(self) -> (Option<Names>, Option<Values>) {
        (
            (!self.names.is_empty()).then_some(self.names),
            (!self.values.is_empty()).then_some(self.values),
        )
    }
}

/// A request builder that takes expressions.
pub(super) trait Expressed: Sized {
    fn with_condition(self, condition: String) -> Self;
    fn with_placeholders(self, expr: Expr) -> Self;

    /// The request, only if `cond` holds.
    fn only_if(self, cond: &Cond) -> Self {
        let mut expr = Expr::default();
        let condition = cond.render(&mut expr);
        self.with_condition(condition).with_placeholders(expr)
    }
}

/// A request builder that updates.
pub(super) trait Updating: Expressed {
    fn with_update(self, update: String) -> Self;

    /// `changes`, only if `cond` holds (if one is given).
    fn changing(self, changes: &Changes, cond: Option<&Cond>) -> Self {
        let mut expr = Expr::default();
        let update = changes.render(&mut expr);
        let builder = self.with_update(update);
        let builder = match cond {
            Some(cond) => builder.with_condition(cond.render(&mut expr)),
            None => builder,
        };
        builder.with_placeholders(expr)
    }
}

macro_rules! expressed {
    ($($builder:ty),*) => {$(
        impl Expressed for $builder {
            fn with_condition(self, condition: String) -> Self {
                self.condition_expression(condition)
            }

            fn with_placeholders(self, expr: Expr) -> Self {
                let (names, values) = expr.declared();
                self.set_expression_attribute_names(names)
                    .set_expression_attribute_values(values)
            }
        }
    )*};
}

expressed!(
    PutBuilder,
    DeleteBuilder,
    ConditionCheckBuilder,
    UpdateBuilder,
    UpdateItemFluentBuilder,
    DeleteItemFluentBuilder,
    PutItemFluentBuilder
);

macro_rules! updating {
    ($($builder:ty),*) => {$(
        impl Updating for $builder {
            fn with_update(self, update: String) -> Self {
                self.update_expression(update)
            }
        }
    )*};
}

updating!(UpdateBuilder, UpdateItemFluentBuilder);

/// A read that returns only some attributes of an item.
pub(super) trait Projecting: Sized {
    /// Only the attributes `names`.
    fn projecting(self, names: &[&'static str]) -> Self;
}

macro_rules! projecting {
    ($($builder:ty),*) => {$(
        impl Projecting for $builder {
            fn projecting(self, names: &[&'static str]) -> Self {
                let mut expr = Expr::default();
                let listed: Vec<String> = names.iter().map(|name| expr.name(name)).collect();
                let (names, _) = expr.declared();
                self.projection_expression(listed.join(", "))
                    .set_expression_attribute_names(names)
            }
        }
    )*};
}

projecting!(GetItemFluentBuilder, GetBuilder, KeysAndAttributesBuilder);

/// The items of one partition a `Query` reads: its key and, on the sort key, a range or a
/// prefix.
#[derive(Debug, Clone)]
pub(super) enum SortKeys {
    /// Every item of the partition.
    Any,
    /// Both bounds included.
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// A `Query` of the items of partition `pk` whose sort key `sort` is among `keys`, with
/// `filter` applied after reading and only the attributes `projection` returned (all if
/// empty).
pub(super) fn keyed_query(
    query: QueryFluentBuilder,
    (partition, pk): (&'static str, AttributeValue),
    (sort, keys): (&'static str, SortKeys),
    filter: Option<&Cond>,
    projection: &[&'static str],
) -> QueryFluentBuilder {
    let mut expr = Expr::default();
    let pk = format!("{} = {}", expr.name(partition), expr.value(pk));
    let sk = match keys {
        SortKeys::Any => None,
        SortKeys::Between(from, to) => Some(format!(
            "{} BETWEEN {} AND {}",
            expr.name(sort),
            expr.value(from),
            expr.value(to)
        )),
        SortKeys::BeginsWith(prefix) => Some(Cond::BeginsWith(sort, prefix).render(&mut expr)),
    };
    let key = match sk {
        Some(sk) => format!("{pk} AND {sk}"),
        None => pk,
    };
    let mut query = query.key_condition_expression(key);
    if let Some(filter) = filter {
        query = query.filter_expression(filter.render(&mut expr));
    }
    if !projection.is_empty() {
        let listed: Vec<String> = projection.iter().map(|name| expr.name(name)).collect();
        query = query.projection_expression(listed.join(", "));
    }
    let (names, values) = expr.declared();
    query
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
}

/// A `Scan` returning the attributes `projection` of the items for which `filter` holds.
pub(super) fn filtered_scan(
    scan: ScanFluentBuilder,
    filter: &Cond,
    projection: &[&'static str],
) -> ScanFluentBuilder {
    let mut expr = Expr::default();
    let scan = scan.filter_expression(filter.render(&mut expr));
    let listed: Vec<String> = projection.iter().map(|name| expr.name(name)).collect();
    let (names, values) = expr.declared();
    scan.projection_expression(listed.join(", "))
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(value: i64) -> AttributeValue {
        AttributeValue::N(value.to_string())
    }

    #[test]
    fn conditions_declare_every_name_and_value_they_use() {
        let cond = Cond::Exists("sk")
            .and(Cond::Eq("version", n(3)))
            .and(Cond::NotExists("deleting").or(Cond::Lt("expires_at", n(9))));
        let mut expr = Expr::default();
        assert_eq!(
            cond.render(&mut expr),
            "attribute_exists(#sk) AND #version = :v0 AND \
             (attribute_not_exists(#deleting) OR #expires_at < :v1)"
        );
        let (names, values) = expr.declared();
        assert_eq!(names.map(|n| n.len()), Some(4));
        assert_eq!(
            values,
            Some(HashMap::from([(":v0".into(), n(3)), (":v1".into(), n(9))]))
        );
    }

    #[test]
    fn updates_set_add_and_remove_with_one_set_of_placeholders() {
        let changes = Changes::default()
            .set("title", AttributeValue::S("x".into()))
            .add("total", n(1))
            .add("completed", n(-1))
            .remove("deleting");
        let mut expr = Expr::default();
        assert_eq!(
            changes.render(&mut expr),
            "SET #title = :v0 ADD #total :v1, #completed :v2 REMOVE #deleting"
        );
        // A name used twice is declared once.
        assert_eq!(
            Cond::Exists("title").render(&mut expr),
            "attribute_exists(#title)"
        );
        assert_eq!(expr.declared().0.map(|n| n.len()), Some(4));
    }
}
