//! The web console in a real browser: headless Chromium driven over
//! WebDriver (Debian's chromedriver) against a real `chanhost serve` on
//! SQLite with the example data set. Each scenario has its own server and
//! browser; on failure a screenshot and the page's HTML are written to
//! `target/console-screenshots/<test>.{png,html}`.
//!
//! Binaries: `CHANHOST_CHROMIUM` and `CHANHOST_CHROMEDRIVER`, else
//! `chromium` and `chromedriver` on the PATH (`scripts/test-tools`
//! installs them).

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use common::server::*;
use common::workspace;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long the console may take to show something after an action.
const UI_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// The browser

/// A chromedriver process and one Chromium session on it.
struct Browser {
    client: Client,
    driver: Child,
}

fn binary(var: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "{var}={} does not exist; run scripts/test-tools or fix {var}",
            path.display()
        );
        return path;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the console's browser tests need {} on the PATH (or {var}); run scripts/test-tools, \
         which installs Debian's chromium and chromium-driver",
        names.join(" or ")
    );
}

impl Browser {
    async fn start() -> Browser {
        let chromium = binary("CHANHOST_CHROMIUM", &["chromium", "chromium-browser"]);
        let chromedriver = binary("CHANHOST_CHROMEDRIVER", &["chromedriver"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("starting {}: {err}", chromedriver.display()));
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = reqwest::get(format!("{url}/status"))
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer on {url}",
                chromedriver.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--no-first-run", "--window-size=1366,900",
                ],
            }),
        );
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.enforce_http(true);
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&url)
            .await
            .unwrap_or_else(|err| panic!("a Chromium session ({}): {err}", chromium.display()));
        Browser { client, driver }
    }

    /// Writes the screenshot and HTML of the page; returns where.
    async fn keep_evidence(&self, test: &str) -> String {
        let dir = screenshot_dir();
        let _ = std::fs::create_dir_all(&dir);
        let png = dir.join(format!("{test}.png"));
        let html = dir.join(format!("{test}.html"));
        match self.client.screenshot().await {
            Ok(bytes) => {
                let _ = std::fs::write(&png, bytes);
            }
            Err(err) => eprintln!("no screenshot: {err}"),
        }
        match self.client.source().await {
            Ok(source) => {
                let _ = std::fs::write(&html, source);
            }
            Err(err) => eprintln!("no page source: {err}"),
        }
        format!("{} and {}", png.display(), html.display())
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Runs one scenario in a fresh browser. Any error or panic keeps a
/// screenshot and the page's HTML and fails the test naming them; the
/// browser is closed either way.
async fn scenario<F, Fut>(test: &str, server: &TestServer, body: F)
where
    F: FnOnce(Ui, Api) -> Fut,
    Fut: std::future::Future<Output = Result<()>> + Send + 'static,
{
    let browser = Browser::start().await;
    let ui = Ui {
        client: browser.client.clone(),
        base: server.api.base.clone(),
    };
    let started = Instant::now();
    let outcome = tokio::spawn(body(ui, server.api.clone())).await;
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(format!("{err:#}")),
        Err(join) => Some(match join.try_into_panic() {
            Ok(panic) => panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the scenario panicked".into()),
            Err(err) => format!("the scenario did not finish: {err}"),
        }),
    };
    eprintln!("{test}: browser part took {:?}", started.elapsed());
    if let Some(failure) = failure {
        let evidence = browser.keep_evidence(test).await;
        browser.close().await;
        panic!("{test} failed: {failure}\nscreenshot and page: {evidence}");
    }
    browser.close().await;
    // Evidence of an earlier failure would only mislead now.
    let dir = screenshot_dir();
    let _ = std::fs::remove_file(dir.join(format!("{test}.png")));
    let _ = std::fs::remove_file(dir.join(format!("{test}.html")));
}

fn screenshot_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("console-screenshots")
}

/// The console as a person uses it.
#[derive(Clone)]
struct Ui {
    client: Client,
    base: String,
}

fn css(selector: &str) -> Locator<'_> {
    Locator::Css(selector)
}

impl Ui {
    async fn open(&self, hash: &str) -> Result<()> {
        self.client
            .goto(&format!("{}/console/{hash}", self.base))
            .await
            .with_context(|| format!("opening {hash}"))
    }

    async fn wait(&self, selector: &str) -> Result<Element> {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .every(Duration::from_millis(50))
            .for_element(css(selector))
            .await
            .with_context(|| format!("waiting for {selector}"))
    }

    async fn all(&self, selector: &str) -> Result<Vec<Element>> {
        Ok(self.client.find_all(css(selector)).await?)
    }

    /// Polls until the element's text satisfies `check`; the last text.
    async fn wait_text(&self, selector: &str, check: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(css(selector)).await
                && let Ok(text) = element.text().await
            {
                if check(&text) {
                    return Ok(text);
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("{selector} never showed the expected text; last: {last:?}")
    }

    /// Signs in with `token` on the sign-in page and waits for the menu.
    async fn sign_in(&self, token: &str) -> Result<()> {
        self.open("").await?;
        let input = self.wait("[data-testid=token-input]").await?;
        input.send_keys(token).await?;
        self.wait("[data-testid=sign-in]").await?.click().await?;
        self.wait("[data-testid=who]").await?;
        Ok(())
    }

    /// Clicks the dialog's confirm button once it is open.
    async fn confirm(&self) -> Result<()> {
        self.wait("[data-testid=confirm-dialog][open] [data-testid=confirm-ok]")
            .await?
            .click()
            .await?;
        Ok(())
    }
}

/// Money as the console writes it: ¥ with thousands separators and two decimals.
fn yuan(fen: i64) -> String {
    let abs = fen.unsigned_abs();
    let yuan = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if fen < 0 { "−" } else { "" };
    format!("{sign}¥{grouped}.{:02}", abs % 100)
}

fn grouped(n: u64) -> String {
    yuan(n as i64 * 100)
        .trim_start_matches('¥')
        .trim_end_matches(".00")
        .to_string()
}

fn id_of(order: &Value) -> String {
    order["id"].as_str().expect("order id").to_string()
}

// ---------------------------------------------------------------------------
// Serving the assets (no browser)

#[tokio::test]
async fn the_console_is_served_from_the_binary() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = client.get(server.url("/")).send().await.unwrap();
    assert!(root.status().is_redirection(), "{}", root.status());
    assert_eq!(root.headers()["location"], "/console/");

    let index = client.get(server.url("/console/")).send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    let csp = index.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let etag = index.headers()["etag"].clone();
    let html = index.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="js/app.js">"#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from a CDN"
    );

    let again = client
        .get(server.url("/console/"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    for (path, kind) in [
        ("/console/js/app.js", "text/javascript; charset=utf-8"),
        (
            "/console/js/views/trace.js",
            "text/javascript; charset=utf-8",
        ),
        ("/console/style.css", "text/css; charset=utf-8"),
    ] {
        let reply = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(reply.status(), 200, "{path}");
        assert_eq!(reply.headers()["content-type"], kind, "{path}");
        assert_eq!(reply.headers()["x-content-type-options"], "nosniff");
    }
    let missing = server
        .send(server.client().get(server.url("/console/js/nope.js")))
        .await;
    let problem = missing.problem(404);
    assert!(problem["detail"].as_str().unwrap().contains("js/nope.js"));
    // A path that is not UTF-8 is refused like any other bad request.
    let undecodable = server
        .send(server.client().get(server.url("/console/%FF.js")))
        .await;
    undecodable.problem(400);
}

// ---------------------------------------------------------------------------
// Scenarios in the browser

#[tokio::test]
async fn hq_signs_in_and_sees_all_32_regions_on_the_dashboard() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    server
        .place(GD_DEALER, "dash-1", one_line("BJ-001", 5))
        .await
        .expect(201);
    let dashboard = server.get(HQ, "/v1/dashboard").await.expect(200);
    let gd_gmv = dashboard["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == "gd")
        .unwrap()["gmv"]["all_time"]
        .as_i64()
        .unwrap();
    scenario(
        "hq_signs_in_and_sees_all_32_regions_on_the_dashboard",
        &server,
        |ui, _api| async move {
            ui.sign_in(HQ).await?;
            ui.wait("[data-testid=dashboard-row]").await?;
            let rows = ui.all("[data-testid=dashboard-row]").await?;
            ensure!(rows.len() == 32, "{} dashboard rows", rows.len());
            let bars = ui
                .all("[data-testid=chart-gmv] [data-testid=chart-bar]")
                .await?;
            ensure!(bars.len() == 32, "{} GMV bars", bars.len());
            let gd = ui
                .wait_text("[data-testid=dashboard-row][data-region=gd]", |t| {
                    t.contains(&yuan(gd_gmv))
                })
                .await?;
            ensure!(gd.contains("pricing"), "plugin versions listed: {gd}");
            // HQ's menu has every section; the sign-out clears the session.
            for section in [
                "dashboard",
                "alerts",
                "orders",
                "inventory",
                "plugins",
                "deployments",
            ] {
                ui.wait(&format!("[data-testid=nav-{section}]")).await?;
            }
            ui.wait("[data-testid=sign-out]").await?.click().await?;
            ui.wait("[data-testid=token-input]").await?;
            let token = ui
                .client
                .execute("return sessionStorage.length", vec![])
                .await?;
            ensure!(token == json!(0), "session storage after sign-out: {token}");
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_dealer_sees_only_its_own_orders() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let mine = [
        id_of(
            &server
                .place(GD_DEALER, "mine-1", one_line("BJ-001", 2))
                .await
                .expect(201),
        ),
        id_of(
            &server
                .place(GD_DEALER, "mine-2", one_line("LA-001", 10))
                .await
                .expect(201),
        ),
    ];
    let theirs = id_of(
        &server
            .place(HL_DEALER, "theirs-1", one_line("BJ-001", 3))
            .await
            .expect(201),
    );
    scenario(
        "a_dealer_sees_only_its_own_orders",
        &server,
        move |ui, _api| async move {
            // A wrong token is refused on the sign-in page, with the reason.
            ui.open("").await?;
            ui.wait("[data-testid=token-input]")
                .await?
                .send_keys("not-a-token")
                .await?;
            ui.wait("[data-testid=sign-in]").await?.click().await?;
            ui.wait_text("[data-testid=problem]", |t| {
                t.contains("Sign-in refused") && t.contains("unknown or revoked")
            })
            .await?;

            ui.sign_in(GD_DEALER).await?;
            ui.wait("[data-testid=order-row]").await?;
            let mut shown = Vec::new();
            for row in ui.all("[data-testid=order-row]").await? {
                shown.push(row.attr("data-order-id").await?.unwrap_or_default());
            }
            shown.sort();
            let mut expected = mine.to_vec();
            expected.sort();
            ensure!(
                shown == expected,
                "listed {shown:?}, own orders {expected:?}"
            );
            // No HQ or region sections in a dealer's menu.
            ensure!(ui.all("[data-testid=nav-dashboard]").await?.is_empty());
            ensure!(ui.all("[data-testid=nav-deployments]").await?.is_empty());

            // Another dealer's order, by its address: a refusal, not a page.
            ui.open(&format!("#/orders/{theirs}")).await?;
            let refusal = ui
                .wait_text("[data-testid=problem]", |t| t.contains("403"))
                .await?;
            ensure!(refusal.contains("may not"), "{refusal}");
            ensure!(ui.all("[data-testid=trace]").await?.is_empty());
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn an_order_shows_its_timeline_shipments_and_decision_trace() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let body = json!({ "lines": [{ "sku": "BJ-001", "quantity": 12 }, { "sku": "LA-001", "quantity": 30 }] });
    let order = server.place(GD_DEALER, "traced", body).await.expect(201);
    let id = id_of(&order);
    if order["status"] == "pending_review" {
        server.act(GD_ADMIN, &id, "approve").await.expect(200);
    }
    let order = server.order(&id).await;
    if order["status"] == "approved" {
        server.act(GD_ADMIN, &id, "allocate").await.expect(200);
    }
    let warehouse = order["allocations"][0]["warehouse_id"]
        .as_str()
        .expect("stock reserved")
        .to_string();
    server
        .post(
            GD_ADMIN,
            &format!("/v1/orders/{id}/shipments"),
            json!({ "warehouse_id": warehouse, "carrier": "SF Express", "tracking_no": "SF1234567890" }),
        )
        .await
        .expect(201);
    let order = server.order(&id).await;
    let decision = server
        .get(GD_DEALER, &format!("/v1/orders/{id}/decision"))
        .await
        .expect(200);
    let steps: Vec<(String, String)> = decision["decision"]["trace"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                format!(
                    "{}@{}",
                    s["plugin"]["name"].as_str().unwrap(),
                    s["plugin"]["version"].as_str().unwrap()
                ),
                grouped(s["fuel_used"].as_u64().unwrap()),
            )
        })
        .collect();
    assert!(steps.len() >= 4, "{decision}");
    let total = yuan(order["total"].as_i64().unwrap());
    let events = order["timeline"].as_array().unwrap().len();
    scenario(
        "an_order_shows_its_timeline_shipments_and_decision_trace",
        &server,
        move |ui, _api| async move {
            ui.sign_in(GD_DEALER).await?;
            ui.wait(&format!(
                "[data-testid=order-row][data-order-id='{id}'] [data-testid=order-link]"
            ))
            .await?
            .click()
            .await?;
            ui.wait("[data-testid=trace-step]").await?;
            ui.wait_text("[data-testid=order-total]", |t| t == total)
                .await?;
            let shown_events = ui
                .all("[data-testid=timeline] [data-testid=timeline-event]")
                .await?;
            ensure!(
                shown_events.len() == events,
                "{} of {events} timeline events",
                shown_events.len()
            );
            ui.wait_text("[data-testid=tracking-no]", |t| t == "SF1234567890")
                .await?;

            let cards = ui.all("[data-testid=trace-step]").await?;
            ensure!(
                cards.len() == steps.len(),
                "{} steps shown of {}",
                cards.len(),
                steps.len()
            );
            for (card, (plugin, fuel)) in cards.iter().zip(&steps) {
                let shown = card
                    .find(css("[data-testid=trace-plugin]"))
                    .await?
                    .text()
                    .await?;
                ensure!(&shown == plugin, "step shows {shown}, trace says {plugin}");
                let shown = card
                    .find(css("[data-testid=trace-fuel]"))
                    .await?
                    .text()
                    .await?;
                ensure!(&shown == fuel, "fuel shows {shown}, trace says {fuel}");
                let time = card
                    .find(css("[data-testid=trace-time]"))
                    .await?
                    .text()
                    .await?;
                ensure!(
                    time.ends_with("µs") || time.ends_with("ms") || time.ends_with(" s"),
                    "{time}"
                );
            }
            let verdict = ui.wait("[data-testid=step-verdict]").await?.text().await?;
            ensure!(!verdict.is_empty(), "the anti-diversion verdict is shown");
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_region_admin_ships_an_order_and_records_tracking() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let order = server
        .place(GD_DEALER, "to-ship", one_line("BJ-001", 4))
        .await
        .expect(201);
    let id = id_of(&order);
    if order["status"] == "pending_review" {
        server.act(GD_ADMIN, &id, "approve").await.expect(200);
    }
    if server.order(&id).await["status"] == "approved" {
        server.act(GD_ADMIN, &id, "allocate").await.expect(200);
    }
    scenario(
        "a_region_admin_ships_an_order_and_records_tracking",
        &server,
        move |ui, api| async move {
            ui.sign_in(GD_ADMIN).await?;
            ui.open(&format!("#/orders/{id}")).await?;
            let form = ui.wait("[data-testid=ship-form]").await?;
            form.find(css("input[name=carrier]"))
                .await?
                .send_keys("SF Express")
                .await?;
            form.find(css("input[name=tracking_no]"))
                .await?
                .send_keys("SF0000042")
                .await?;
            form.find(css("button[type=submit]")).await?.click().await?;
            ui.wait_text("[data-testid=tracking-no]", |t| t == "SF0000042")
                .await?;
            ui.wait_text("[data-testid=order-status]", |t| t == "Shipped")
                .await?;

            let form = ui.wait("[data-testid=track-form]").await?;
            form.find(css("input[name=location]"))
                .await?
                .send_keys("Guangzhou hub")
                .await?;
            form.find(css("input[name=description]"))
                .await?
                .send_keys("Departed sorting centre")
                .await?;
            form.find(css("button[type=submit]")).await?.click().await?;
            ui.wait_text("[data-testid=shipment]", |t| {
                t.contains("Guangzhou hub: Departed sorting centre")
            })
            .await?;

            let order = api.order(&id).await;
            let shipment = &order["shipments"][0];
            ensure!(
                shipment["carrier"] == "SF Express" && shipment["tracking_no"] == "SF0000042",
                "{shipment}"
            );
            ensure!(
                shipment["tracking"][0]["location"] == "Guangzhou hub",
                "{shipment}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn hq_approves_a_drafted_transfer_plan() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    server
        .post(HQ, "/v1/alerts/scan", json!({}))
        .await
        .expect(200);
    let drafts = server
        .get(HQ, "/v1/transfers?status=draft")
        .await
        .expect(200);
    let id = drafts["transfers"][0]["id"]
        .as_str()
        .expect("the scan drafts transfers for the example data set")
        .to_string();
    scenario(
        "hq_approves_a_drafted_transfer_plan",
        &server,
        move |ui, api| async move {
            ui.sign_in(HQ).await?;
            ui.wait("[data-testid=nav-alerts]").await?.click().await?;
            let row = format!("[data-testid=transfer-row][data-transfer-id='{id}']");
            ui.wait_text(&format!("{row} [data-testid=transfer-status]"), |t| {
                t == "Draft"
            })
            .await?;
            ui.wait(&format!("{row} [data-testid=approve-transfer]"))
                .await?
                .click()
                .await?;
            ui.confirm().await?;
            ui.wait_text(&format!("{row} [data-testid=transfer-status]"), |t| {
                t == "Approved"
            })
            .await?;
            let transfer = api
                .get(HQ, &format!("/v1/transfers/{id}"))
                .await
                .expect(200);
            ensure!(transfer["status"] == "approved", "{transfer}");
            ensure!(
                transfer["approved_by"]
                    .as_str()
                    .is_some_and(|by| by.contains("hq_admin")),
                "{transfer}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_region_admin_rolls_back_a_deployment() {
    let db = TestDb::new(Backend::Sqlite).await;
    let server = db.start().await;
    let deploy = |core: i64, note: &str| {
        json!({
            "changes": [{ "region": "gd", "slot": "pricing", "plugin": "builtin:pricing-tiered",
                          "config": { "tier_discount_bp": { "strategic": 1000, "core": core, "standard": 0 },
                                      "quantity_breaks": [] } }],
            "note": note,
        })
    };
    let first = server
        .post(GD_ADMIN, "/v1/deployments", deploy(700, "core 7%"))
        .await
        .expect(201);
    let first = first["deployments"][0]["id"].as_str().unwrap().to_string();
    let second = server
        .post(GD_ADMIN, "/v1/deployments", deploy(900, "core 9%"))
        .await
        .expect(201);
    let second = second["deployments"][0]["id"].as_str().unwrap().to_string();
    scenario(
        "a_region_admin_rolls_back_a_deployment",
        &server,
        move |ui, api| async move {
            ui.sign_in(GD_ADMIN).await?;
            ui.wait("[data-testid=nav-deployments]").await?.click().await?;
            let pricing = "[data-testid=active-row][data-region=gd][data-slot=pricing]";
            ui.wait_text(pricing, |t| t.contains(&second)).await?;
            ui.wait(&format!("[data-testid=deployment-row][data-deployment-id='{second}']"))
                .await?;
            ui.wait(&format!("{pricing} [data-testid=rollback-slot]"))
                .await?
                .click()
                .await?;
            ui.confirm().await?;
            ui.wait_text(pricing, |t| t.contains(&first) && !t.contains(&second))
                .await?;
            ui.wait_text(
                &format!("[data-testid=deployment-row][data-deployment-id='{second}'] [data-testid=deployment-state]"),
                |t| t == "Rolled back",
            )
            .await?;
            let policy = api.get(HQ, "/v1/policy?region=gd").await.expect(200);
            let slot = policy["regions"][0]["slots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["slot"] == "pricing")
                .ok_or_else(|| anyhow!("no pricing slot in {policy}"))?
                .clone();
            ensure!(slot["deployment_id"] == first.as_str(), "gd pricing now {slot}");
            Ok(())
        },
    )
    .await;
}
