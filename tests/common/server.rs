//! The real `chanhost serve` binary for HTTP integration tests: a database
//! per test (SQLite in a temporary directory, or a fresh PostgreSQL
//! database), a server process on a free port, a small bearer-token client,
//! and the ledger check every stock test ends with.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::Value;
use sqlx::{AnyPool, Executor, Row};

use super::{chanhost_command, examples};

/// Demo tokens of the example data set (examples/brand/dataset/tokens.toml).
pub const HQ: &str = "demo-hq-admin";
pub const GD_ADMIN: &str = "demo-region-gd";
pub const HL_ADMIN: &str = "demo-region-hl";
pub const GD_DEALER: &str = "demo-dealer-d-gd-0001";
pub const HL_DEALER: &str = "demo-dealer-d-hl-0001";

/// Where the PostgreSQL tests find a server they may create databases on.
pub const DATABASE_URL_VAR: &str = "CHANHOST_TEST_DATABASE_URL";

/// How long a server may take to become ready: the first start compiles the
/// plugins into the on-disk cache.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's database and scratch directory (logs, SQLite file). A
/// PostgreSQL database is dropped, best effort, when this is dropped; drop
/// the servers first (declare them after the `TestDb`).
pub struct TestDb {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    postgres: Option<PgDatabase>,
    starts: std::sync::atomic::AtomicUsize,
}

struct PgDatabase {
    /// The URL tests were given (the database to connect to for admin work).
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PgDatabase::create().await),
        };
        TestDb {
            backend,
            dir: tempfile::tempdir().expect("temporary directory"),
            postgres,
            starts: Default::default(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A URL this test can open the database with directly.
    pub fn url(&self) -> String {
        match &self.postgres {
            Some(pg) => pg.url.clone(),
            None => format!(
                "sqlite://{}?mode=rw",
                self.data_dir().join("chanhost.db").display()
            ),
        }
    }

    /// A connection pool on the database, for checks the API does not offer.
    pub async fn pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        let url = self.url();
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    if conn.backend_name() == "SQLite" {
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .unwrap_or_else(|err| panic!("opening {url}: {err}"))
    }

    /// Starts a `chanhost serve` on this database (and waits until ready).
    pub async fn start(&self) -> TestServer {
        TestServer::start(self).await
    }
}

impl PgDatabase {
    async fn create() -> PgDatabase {
        let admin_url = std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "the PostgreSQL tests need a server: set {DATABASE_URL_VAR}, e.g. \
                 {DATABASE_URL_VAR}=postgres://postgres@127.0.0.1:5432/test \
                 (each test creates and drops its own database there)"
            )
        });
        let name = format!("chanhost_t_{}", uuid::Uuid::new_v4().simple());
        let mut url = reqwest::Url::parse(&admin_url)
            .unwrap_or_else(|err| panic!("{DATABASE_URL_VAR}={admin_url}: {err}"));
        url.set_path(&format!("/{name}"));
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&admin_url)
            .await
            .unwrap_or_else(|err| panic!("connecting to {DATABASE_URL_VAR}={admin_url}: {err}"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|err| panic!("CREATE DATABASE {name}: {err}"));
        admin.close().await;
        PgDatabase {
            admin_url,
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime: use a thread with its own.
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = sqlx::AnyPool::connect(&admin_url).await.ok()?;
                let result = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                admin.close().await;
                result.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: could not drop test database {}", self.name);
        }
    }
}

/// A running `chanhost serve`, killed (SIGKILL) when dropped. Derefs to
/// its [`Api`] client.
pub struct TestServer {
    child: Option<Child>,
    pub log: PathBuf,
    pub api: Api,
}

impl std::ops::Deref for TestServer {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// A client of one server: cheap to clone into spawned tasks.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    client: reqwest::Client,
}

impl TestServer {
    async fn start(db: &TestDb) -> TestServer {
        // The port is picked here and handed over; another process may take
        // it in between, so a server that cannot listen is started again.
        for _ in 0..3 {
            let n = db.starts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let log = db.dir.path().join(format!("server-{n}.log"));
            let port = free_port();
            let mut command = chanhost_command();
            command
                .arg("serve")
                .arg("--config")
                .arg(examples())
                .arg("--data-dir")
                .arg(db.data_dir())
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .env_remove("CHANHOST_DATABASE_URL")
                .stdin(Stdio::null());
            if let Some(pg) = &db.postgres {
                command.arg("--database-url").arg(&pg.url);
            }
            let file = std::fs::File::create(&log).expect("server log file");
            command
                .stdout(file.try_clone().expect("log file"))
                .stderr(file);
            let child = command.spawn().expect("start chanhost serve");
            let mut server = TestServer {
                child: Some(child),
                log,
                api: Api {
                    base: format!("http://127.0.0.1:{port}"),
                    client: reqwest::Client::builder()
                        // A safety net against a hung server, not a performance bound.
                        .timeout(Duration::from_secs(120))
                        .build()
                        .expect("HTTP client"),
                },
            };
            match server.wait_ready().await {
                Ok(()) => return server,
                Err(exited) => {
                    let log = server.log_text();
                    if exited && log.contains("Address already in use") {
                        continue;
                    }
                    panic!("chanhost serve did not become ready:\n{log}");
                }
            }
        }
        panic!("chanhost serve could not find a free port in three tries");
    }

    /// Polls /readyz; Err(true) if the process exited, Err(false) on timeout.
    async fn wait_ready(&mut self) -> Result<(), bool> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(child) = &mut self.child
                && let Ok(Some(_)) = child.try_wait()
            {
                self.child = None;
                return Err(true);
            }
            if let Ok(response) = self
                .client
                .get(self.url("/readyz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                && response.status() == 200
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(false)
    }

    /// Everything the server printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no graceful shutdown, nothing flushed that was not committed.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends a request; transport errors (server gone) are returned.
    pub async fn try_send(&self, request: reqwest::RequestBuilder) -> reqwest::Result<Reply> {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Reply {
            status,
            headers,
            text,
            body,
        })
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        self.try_send(request)
            .await
            .unwrap_or_else(|err| panic!("request to {}: {err}", self.base))
    }

    /// The `/metrics` exposition (unauthenticated).
    pub async fn metrics_text(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await;
        let response = response.expect("GET /metrics");
        assert_eq!(response.status(), 200, "GET /metrics");
        response.text().await.expect("metrics text")
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(token))
            .await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(
            self.client
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body),
        )
        .await
    }

    /// A POST without a body (lifecycle actions take an optional note).
    pub async fn post_empty(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.post(self.url(path)).bearer_auth(token))
            .await
    }

    /// `POST /v1/orders/{id}/{action}` without a note.
    pub async fn act(&self, token: &str, id: &str, action: &str) -> Reply {
        self.post_empty(token, &format!("/v1/orders/{id}/{action}"))
            .await
    }

    /// POST /v1/orders under an Idempotency-Key.
    pub fn place_request(&self, token: &str, key: &str, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(self.url("/v1/orders"))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(body)
    }

    pub async fn place(&self, token: &str, key: &str, body: Value) -> Reply {
        self.send(self.place_request(token, key, &body)).await
    }

    /// The order, read as HQ.
    pub async fn order(&self, id: &str) -> Value {
        self.get(HQ, &format!("/v1/orders/{id}")).await.expect(200)
    }

    /// `(on_hand, reserved)` of one stock row, through GET /v1/inventory as HQ.
    pub async fn inventory(&self, warehouse: &str, sku: &str) -> (i64, i64) {
        let rows = self
            .get(
                HQ,
                &format!("/v1/inventory?warehouse_id={warehouse}&sku={sku}"),
            )
            .await
            .expect(200);
        let rows = rows.as_array().expect("inventory rows");
        assert_eq!(
            rows.len(),
            1,
            "one stock row for {warehouse} {sku}: {rows:?}"
        );
        let (on_hand, reserved) = (
            rows[0]["on_hand"].as_i64().unwrap(),
            rows[0]["reserved"].as_i64().unwrap(),
        );
        assert_eq!(
            rows[0]["available"].as_i64(),
            Some(on_hand - reserved),
            "{rows:?}"
        );
        (on_hand, reserved)
    }

    /// Every order the caller may list, following the cursor.
    pub async fn list_all(&self, token: &str, query: &str) -> Vec<Value> {
        let mut orders = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/orders?limit=100{query}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let page = self.get(token, &path).await.expect(200);
            orders.extend(page["orders"].as_array().expect("orders").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return orders,
            }
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of {} ---", self.log.display());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        self.kill();
    }
}

/// Runs the futures as concurrent tasks and returns their outputs in order.
/// The first task to panic fails the test with its panic; the others are
/// stopped rather than left failing against a server that is going away.
pub async fn join_all<T, F>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    let mut count = 0;
    for (i, future) in futures.into_iter().enumerate() {
        tasks.spawn(async move { (i, future.await) });
        count += 1;
    }
    let mut outputs: Vec<Option<T>> = (0..count).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((i, output)) => outputs[i] = Some(output),
            Err(err) => {
                tasks.abort_all();
                std::panic::resume_unwind(err.into_panic());
            }
        }
    }
    outputs
        .into_iter()
        .map(|o| o.expect("every task finished"))
        .collect()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// One HTTP answer: status, headers and the body (as JSON when it is JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    /// The JSON body, after checking the status.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {}: {}",
            self.status, self.text
        );
        self.body
    }

    /// A problem+json refusal with this status; its body.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        let content_type = self.header("content-type").unwrap_or_default();
        assert_eq!(
            content_type, "application/problem+json",
            "content type of {}",
            self.text
        );
        let body = self.expect(status);
        assert_eq!(body["status"], status, "status member of {body}");
        body
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// The JSON-pointer paths a problem names in `errors[]`.
pub fn error_paths(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["path"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// An order body of one line.
pub fn one_line(sku: &str, quantity: i64) -> Value {
    serde_json::json!({ "lines": [{ "sku": sku, "quantity": quantity }] })
}

/// The same, placed by an admin on the dealer's behalf.
pub fn one_line_for(dealer: &str, sku: &str, quantity: i64) -> Value {
    serde_json::json!({ "dealer_id": dealer, "lines": [{ "sku": sku, "quantity": quantity }] })
}

/// `(on_hand, reserved)` of one stock row, read from the database.
pub async fn stock(pool: &AnyPool, warehouse: &str, sku: &str) -> (i64, i64) {
    let row =
        sqlx::query("SELECT on_hand, reserved FROM stock WHERE warehouse_id = $1 AND sku = $2")
            .bind(warehouse)
            .bind(sku)
            .fetch_one(pool)
            .await
            .unwrap_or_else(|err| panic!("stock {warehouse} {sku}: {err}"));
    (row.get(0), row.get(1))
}

/// A count from the database.
pub async fn count(pool: &AnyPool, sql: &str) -> i64 {
    let row = sqlx::query(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|err| panic!("{sql}: {err}"));
    row.get(0)
}

/// What the ledger check looked at.
#[derive(Debug, Clone, Copy)]
pub struct Ledger {
    pub stock_rows: usize,
    pub movements: i64,
    pub reserved: i64,
}

/// Checks that every stock figure is explained: for every stock row
/// 0 ≤ reserved ≤ on_hand, on_hand and reserved equal the sums of its
/// movements (seeding opens each row at zero and receives the opening stock
/// as a movement), and reserved equals what orders' allocations still hold
/// (quantity − shipped − released), per row and per order.
pub async fn assert_ledger_balances(pool: &AnyPool) -> Ledger {
    type Key = (String, String);
    let rows: Vec<(String, String, i64, i64)> =
        sqlx::query_as("SELECT warehouse_id, sku, on_hand, reserved FROM stock")
            .fetch_all(pool)
            .await
            .expect("stock");
    let moved: BTreeMap<Key, (i64, i64)> = sqlx::query_as::<_, (String, String, i64, i64)>(
        "SELECT warehouse_id, sku, CAST(COALESCE(SUM(on_hand_delta), 0) AS BIGINT), \
         CAST(COALESCE(SUM(reserved_delta), 0) AS BIGINT) FROM movements GROUP BY warehouse_id, sku",
    )
    .fetch_all(pool)
    .await
    .expect("movement sums")
    .into_iter()
    .map(|(w, s, on_hand, reserved)| ((w, s), (on_hand, reserved)))
    .collect();
    let held: BTreeMap<Key, i64> = sqlx::query_as::<_, (String, String, i64)>(
        "SELECT warehouse_id, sku, CAST(COALESCE(SUM(quantity - shipped - released), 0) AS BIGINT) \
         FROM allocations GROUP BY warehouse_id, sku",
    )
    .fetch_all(pool)
    .await
    .expect("allocation sums")
    .into_iter()
    .map(|(w, s, held)| ((w, s), held))
    .collect();

    let mut problems = Vec::new();
    let mut reserved_total = 0;
    for (warehouse, sku, on_hand, reserved) in &rows {
        let key = (warehouse.clone(), sku.clone());
        reserved_total += reserved;
        if *reserved < 0 || reserved > on_hand {
            problems.push(format!(
                "{warehouse} {sku}: reserved {reserved} outside 0..={on_hand}"
            ));
        }
        let (moved_on_hand, moved_reserved) = moved.get(&key).copied().unwrap_or((0, 0));
        if moved_on_hand != *on_hand {
            problems.push(format!(
                "{warehouse} {sku}: on_hand {on_hand} but movements sum to {moved_on_hand}"
            ));
        }
        if moved_reserved != *reserved {
            problems.push(format!(
                "{warehouse} {sku}: reserved {reserved} but movements sum to {moved_reserved}"
            ));
        }
        let held = held.get(&key).copied().unwrap_or(0);
        if held != *reserved {
            problems.push(format!(
                "{warehouse} {sku}: reserved {reserved} but allocations hold {held}"
            ));
        }
    }
    let known: std::collections::BTreeSet<Key> = rows
        .iter()
        .map(|(w, s, ..)| (w.clone(), s.clone()))
        .collect();
    for key in moved.keys().chain(held.keys()) {
        if !known.contains(key) {
            problems.push(format!(
                "{} {}: movements or allocations without a stock row",
                key.0, key.1
            ));
        }
    }

    // Per order: its movements explain what its allocations still hold.
    let per_order_moved: BTreeMap<(String, String, String), i64> =
        sqlx::query_as::<_, (String, String, String, i64)>(
            "SELECT order_id, warehouse_id, sku, CAST(COALESCE(SUM(reserved_delta), 0) AS BIGINT) \
         FROM movements WHERE order_id IS NOT NULL GROUP BY order_id, warehouse_id, sku",
        )
        .fetch_all(pool)
        .await
        .expect("movements per order")
        .into_iter()
        .map(|(o, w, s, r)| ((o, w, s), r))
        .collect();
    let allocations: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT order_id, warehouse_id, sku, quantity, shipped, released FROM allocations",
    )
    .fetch_all(pool)
    .await
    .expect("allocations");
    for (order, warehouse, sku, quantity, shipped, released) in &allocations {
        if *shipped < 0 || *released < 0 || shipped + released > *quantity {
            problems.push(format!(
                "{order} {warehouse} {sku}: shipped {shipped} + released {released} > {quantity}"
            ));
        }
        let outstanding = quantity - shipped - released;
        let moved = per_order_moved
            .get(&(order.clone(), warehouse.clone(), sku.clone()))
            .copied()
            .unwrap_or(0);
        if moved != outstanding {
            problems.push(format!(
                "{order} {warehouse} {sku}: holds {outstanding} but its movements reserve {moved}"
            ));
        }
    }
    let with_allocation: std::collections::BTreeSet<_> = allocations
        .iter()
        .map(|(o, w, s, ..)| (o.clone(), w.clone(), s.clone()))
        .collect();
    for (key, moved) in &per_order_moved {
        if *moved != 0 && !with_allocation.contains(key) {
            problems.push(format!(
                "{} {} {}: movements reserve {moved} for no allocation",
                key.0, key.1, key.2
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "the stock ledger does not balance:\n{}",
        problems.join("\n")
    );
    Ledger {
        stock_rows: rows.len(),
        movements: count(pool, "SELECT COUNT(*) FROM movements").await,
        reserved: reserved_total,
    }
}

/// The sum of every series of `name` in a Prometheus text exposition whose
/// labels include all of `labels` (`None` when no series matches).
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let (series_name, series_labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if series_name != name {
            continue;
        }
        let has = |(key, wanted): &(&str, &str)| {
            series_labels
                .split(',')
                .filter_map(|pair| pair.split_once('='))
                .any(|(k, v)| k == *key && v.trim_matches('"') == *wanted)
        };
        if labels.iter().all(has) {
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
            *found.get_or_insert(0.0) += value;
        }
    }
    found
}
