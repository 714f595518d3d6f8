//! Multi-row statements: one `INSERT … VALUES (…), (…)` for many rows, so a
//! batch of orders costs a handful of statements instead of dozens per
//! order. Chunked to [`MAX_PARAMS`] parameters per statement.

use super::Backend;

/// One bound value.
#[derive(Debug, Clone)]
pub enum Value {
    Int(i64),
    Text(String),
    MaybeText(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v as i64)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::MaybeText(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Value::MaybeText(v.map(str::to_string))
    }
}

/// Parameters per statement; both databases allow more (32,766 and
/// 65,535). On SQLite the parameters are anonymous (`?`, see [`Params`]):
/// sqlx binds a named one by looking its name up in a list, which made a
/// statement's binding cost grow with the square of its parameters.
pub const MAX_PARAMS: usize = 3_000;

/// Writes a statement's parameters in the backend's own style: `$1, $2, …`
/// on PostgreSQL, anonymous `?` on SQLite, where sqlx binds them in order
/// without a name lookup per parameter.
pub struct Params {
    backend: Backend,
    next: usize,
}

impl Params {
    pub fn new(backend: Backend) -> Self {
        Params { backend, next: 1 }
    }

    /// Appends the next parameter to `sql`.
    fn push(&mut self, sql: &mut String) {
        match self.backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&self.next.to_string());
            }
        }
        self.next += 1;
    }

    /// `(…), (…), …`: `rows` tuples of `width` parameters.
    pub fn rows(&mut self, rows: usize, width: usize) -> String {
        let mut sql = String::with_capacity(rows * width * 5);
        for r in 0..rows {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                self.push(&mut sql);
            }
            sql.push(')');
        }
        sql
    }
}

/// One statement and the values of its parameters, in order.
#[derive(Debug, Default)]
pub struct Statement {
    pub sql: String,
    pub values: Vec<Value>,
}

impl Statement {
    /// A statement without parameters.
    pub fn plain(sql: &str) -> Statement {
        Statement {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    /// The query, bound.
    pub fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        bind(sqlx::query(&self.sql), &self.values)
    }

    /// Several statements as one, run in one call: SQLite runs them in
    /// order and stops at the first that fails. (PostgreSQL takes one
    /// statement with parameters per call.)
    pub fn join(statements: impl IntoIterator<Item = Statement>) -> Statement {
        let mut joined = Statement::default();
        for statement in statements {
            if !joined.sql.is_empty() {
                joined.sql.push_str(";\n");
            }
            joined.sql.push_str(&statement.sql);
            joined.values.extend(statement.values);
        }
        joined
    }
}

/// Binds `values` in order.
pub fn bind<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    values: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for value in values {
        query = match value {
            Value::Int(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.as_str()),
            Value::MaybeText(v) => query.bind(v.as_deref()),
        };
    }
    query
}

/// The statements that insert `rows` (each as long as `columns`) into
/// `table`, [`MAX_PARAMS`] parameters at most each.
pub fn inserts(
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Vec<Statement> {
    let per_chunk = (MAX_PARAMS / columns.len()).max(1);
    let mut statements = Vec::new();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(per_chunk).collect();
        debug_assert!(
            chunk.iter().all(|row| row.len() == columns.len()),
            "{table}: row width"
        );
        statements.push(Statement {
            sql: statement(Params::new(backend), table, columns, chunk.len()),
            values: chunk.into_iter().flatten().collect(),
        });
    }
    statements
}

fn statement(mut params: Params, table: &str, columns: &[&str], rows: usize) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        params.rows(rows, columns.len())
    )
}

#[cfg(test)]
mod tests {
    use super::{Backend, Params, statement};

    #[test]
    fn numbers_parameters_across_rows_on_postgres() {
        assert_eq!(
            statement(Params::new(Backend::Postgres), "t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }

    #[test]
    fn anonymous_parameters_on_sqlite() {
        assert_eq!(
            statement(Params::new(Backend::Sqlite), "t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
    }
}
