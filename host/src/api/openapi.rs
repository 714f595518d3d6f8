//! The OpenAPI 3.1 document, generated from the handlers, at
//! `/openapi.json`, and the interactive docs page at `/docs` (Swagger UI,
//! its files compiled into the binary: nothing is fetched from elsewhere).
//!
//! Each resource module registers its routes with `utoipa_axum::routes!`,
//! so a route cannot exist without its `#[utoipa::path]`. The refusals
//! every handler shares are named once here, as reusable responses with the
//! problem+json schema of [`super::error`]; handlers list the ones they can
//! produce, and [`finish`] adds 401 and 500 to every operation under `/v1`
//! (every one of them needs a token and may meet a database error).

use std::collections::BTreeMap;

use axum::Router;
use serde::Serialize;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, OpenApi as _, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::AppState;
use super::error::FieldProblem;

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/openapi.json";
/// Where the docs page is served.
pub const DOCS_PATH: &str = "/docs";
/// The media type of every refusal.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The name of the bearer-token security scheme.
pub const BEARER: &str = "bearer";

/// An error as the API answers it: RFC 9457 problem details.
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // A schema only: the body is built in `error.rs`.
pub struct ProblemSchema {
    /// `https://chanhost.dev/problems/<status>`.
    #[serde(rename = "type")]
    kind: String,
    /// The status's reason phrase, e.g. `Unprocessable Entity`.
    title: String,
    status: u16,
    /// What went wrong, in words.
    detail: String,
    /// The offending fields as JSON pointers into the request body
    /// (`/lines/2/quantity`), `?name` for a query parameter or a header's
    /// name; absent when the problem is not about one field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem>,
    /// On a 409: the actions the resource's current state allows.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<Vec<String>>,
    /// Extra machine-readable context, e.g. a rejected order's reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<serde_json::Value>,
}

/// The refusals handlers share, each a reusable response in the document.
macro_rules! problems {
    ($($name:ident = $status:literal: $description:literal;)*) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([(
                        $status.to_string(),
                        RefOr::Ref(Ref::from_response_name(stringify!($name))),
                    )])
                }
            }
        )*

        fn problem_responses() -> Vec<(&'static str, Response)> {
            vec![$((stringify!($name), problem($description)),)*]
        }
    };
}

problems! {
    BadRequest = 400: "Unreadable request: malformed JSON, or a header that is required or malformed.";
    Unauthorized = 401: "No `Authorization: Bearer <token>`, or an unknown or revoked token.";
    Forbidden = 403: "The caller's role may not do this (e.g. another region's data, or HQ only); `detail` says why.";
    NotFound = 404: "No such resource (or one the caller may not know of).";
    Conflict = 409: "The resource's state does not allow this now; `allowed` lists what it allows, or it already exists.";
    TooLarge = 413: "The request body is larger than the endpoint reads (256 KiB for JSON).";
    Invalid = 422: "Readable but wrong: unknown references, bad quantities, a bad query parameter, a refusal; `errors` names each field by JSON pointer (`?name` for query parameters).";
    Unavailable = 503: "The service could not take the request now (e.g. stock contended beyond retries); try again.";
    Internal = 500: "Internal or database error; the request was not applied. Details are logged, not returned.";
}

/// 400, 413 and 422: what reading a JSON body may answer.
pub struct JsonBody;

impl IntoResponses for JsonBody {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut all = BadRequest::responses();
        all.extend(TooLarge::responses());
        all.extend(Invalid::responses());
        all
    }
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "chanhost",
        description = "The dealer channel's order service: orders and their lifecycle, \
            payments and claims, inventory and transfers, alerts, the dashboard, and the \
            regions' plugin policies and their deployment.\n\n\
            Every `/v1` operation needs `Authorization: Bearer <token>`; the token's role \
            (HQ admin, a region's admin, or a dealer) decides what it may see and do. \
            Money is integer fen (1/100 yuan); times are milliseconds since the Unix epoch. \
            Every refusal is `application/problem+json` naming the offending fields by JSON pointer.",
    ),
    paths(super::metrics::serve),
    components(schemas(ProblemSchema, FieldProblem)),
    tags(
        (name = "orders", description = "Place orders (idempotent), read them with their decision, move them through the lifecycle."),
        (name = "payments", description = "Pay orders and dealers' credit balances; ledgers and credit positions."),
        (name = "claims", description = "After-sales claims on delivered orders."),
        (name = "inventory", description = "Stock per warehouse and SKU, movements, receipts, adjustments and counts."),
        (name = "transfers", description = "Stock transfers between warehouses."),
        (name = "alerts", description = "Stock and production alerts."),
        (name = "dashboard", description = "Per-region figures."),
        (name = "catalogue", description = "Products, regional centers, warehouses, dealers, and the caller."),
        (name = "policies", description = "What each region's plugins are, their health, deployments, rollbacks and replays."),
        (name = "registry", description = "The signed plugin registry."),
        (name = "tokens", description = "API tokens."),
        (name = "operations", description = "Liveness, readiness and metrics, for machines."),
    ),
)]
struct Base;

/// The document's frame: info, tags, shared schemas, the `/metrics`
/// operation; the routers add their paths to it.
pub fn base() -> OpenApi {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// Completes the assembled document: OpenAPI 3.1.0, the bearer scheme, the
/// shared responses, on every operation with path parameters the 400 for
/// an undecodable one, and on every `/v1` operation the security
/// requirement and the 401 and 500 every one of them may answer.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    let components = doc.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        BEARER.to_string(),
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token: `demo-hq-admin`, `demo-region-<id>` or `demo-dealer-<dealer id>` \
                     on the example data set; HQ issues others with `POST /v1/tokens`.",
                ))
                .build(),
        ),
    );
    for (name, response) in problem_responses() {
        components
            .responses
            .insert(name.to_string(), RefOr::T(response));
    }
    open_flattened(components);
    for (path, item) in doc.paths.paths.iter_mut() {
        for (_, operation) in operations(item) {
            // Handler names repeat across resources (`show`, `approve`):
            // the tag makes them unique.
            if let (Some(id), Some(tag)) = (
                &operation.operation_id,
                operation.tags.as_ref().and_then(|t| t.first()),
            ) {
                operation.operation_id = Some(format!("{tag}_{id}"));
            }
            // A path segment that is not UTF-8 once percent-decoded.
            if path.contains('{') {
                operation
                    .responses
                    .responses
                    .extend(BadRequest::responses());
            }
            if !path.starts_with("/v1/") {
                continue;
            }
            operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
            operation
                .responses
                .responses
                .extend(Unauthorized::responses());
            operation.responses.responses.extend(Internal::responses());
        }
    }
    doc
}

/// A struct flattened into another (`#[serde(flatten)]`) is an `allOf`
/// part of the outer schema; if the inner one also denies unknown fields
/// (`additionalProperties: false`, from `deny_unknown_fields`), no value
/// can match both. The outer schema lists every field anyway.
fn open_flattened(components: &mut utoipa::openapi::Components) {
    use utoipa::openapi::schema::Schema;
    let mut flattened = Vec::new();
    for schema in components.schemas.values() {
        if let RefOr::T(Schema::AllOf(all_of)) = schema {
            for item in &all_of.items {
                if let RefOr::Ref(r) = item
                    && let Some(name) = r.ref_location.strip_prefix("#/components/schemas/")
                {
                    flattened.push(name.to_string());
                }
            }
        }
    }
    for name in flattened {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
            object.additional_properties = None;
        }
    }
}

/// Every operation of a path item, with its method's name.
pub fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("options", item.options.as_mut()),
        ("head", item.head.as_mut()),
        ("patch", item.patch.as_mut()),
        ("trace", item.trace.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| Some((method, operation?)))
}

/// `/openapi.json` and `/docs`.
pub fn router(doc: OpenApi) -> Router<AppState> {
    let config = Config::from(DOCUMENT_PATH)
        // Swagger UI would otherwise ask validator.swagger.io about the
        // document: the machines have no internet.
        .validator_url("none")
        .persist_authorization(true)
        .try_it_out_enabled(true)
        .display_request_duration(true);
    SwaggerUi::new(DOCS_PATH)
        .url(DOCUMENT_PATH, doc)
        .config(config)
        .into()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use utoipa::openapi::path::ParameterIn;

    use super::*;

    /// Outside `/v1`: for machines, without a token.
    const UNAUTHENTICATED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

    /// Every API source file: each `#[utoipa::path]` in them is a handler.
    const SOURCES: [&str; 16] = [
        include_str!("alerts.rs"),
        include_str!("catalogue.rs"),
        include_str!("claims.rs"),
        include_str!("dashboard.rs"),
        include_str!("deployments.rs"),
        include_str!("health.rs"),
        include_str!("inventory.rs"),
        include_str!("metrics.rs"),
        include_str!("orders.rs"),
        include_str!("payments.rs"),
        include_str!("policies.rs"),
        include_str!("registry.rs"),
        include_str!("replays.rs"),
        include_str!("tokens.rs"),
        include_str!("transfers.rs"),
        include_str!("mod.rs"),
    ];

    fn document() -> OpenApi {
        super::super::documented().1
    }

    fn each_operation(doc: &mut OpenApi, mut check: impl FnMut(&str, &str, &mut Operation)) {
        for (path, item) in doc.paths.paths.iter_mut() {
            for (method, op) in operations(item) {
                check(path, method, op);
            }
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_with_our_name_and_version() {
        let doc = document();
        let json: serde_json::Value = serde_json::from_str(&doc.to_json().unwrap()).unwrap();
        assert_eq!(json["openapi"], "3.1.0");
        assert_eq!(json["info"]["title"], "chanhost");
        assert_eq!(json["info"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            json["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn every_operation_has_tag_summary_security_and_its_refusals() {
        let mut doc = document();
        let mut seen = 0;
        each_operation(&mut doc, |path, method, op| {
            seen += 1;
            let what = format!("{method} {path}");
            assert!(
                op.tags.as_ref().is_some_and(|t| !t.is_empty()),
                "{what}: no tag"
            );
            assert!(
                op.summary.as_ref().is_some_and(|s| !s.is_empty()),
                "{what}: no summary"
            );
            let statuses: BTreeSet<&str> =
                op.responses.responses.keys().map(String::as_str).collect();
            assert!(
                statuses.iter().any(|s| s.starts_with('2')),
                "{what}: no success response"
            );
            if UNAUTHENTICATED.contains(&path) {
                assert!(op.security.is_none(), "{what} needs no token");
                return;
            }
            assert!(path.starts_with("/v1/"), "{what}: outside /v1");
            let security = op.security.as_ref().expect("security");
            let security = serde_json::to_value(security).unwrap();
            assert_eq!(security, serde_json::json!([{ BEARER: [] }]), "{what}");
            for status in ["401", "500"] {
                assert!(statuses.contains(status), "{what}: no {status}");
            }
            // An operation that reads a JSON body answers 400, 413 and 422.
            if let Some(body) = &op.request_body
                && body.content.contains_key("application/json")
            {
                for status in ["400", "413", "422"] {
                    assert!(statuses.contains(status), "{what}: reads JSON, no {status}");
                }
            }
            if path.contains('{') {
                assert!(statuses.contains("400"), "{what}: no 400 for a bad path");
            }
            // A path with an id names something that may not exist.
            if path.contains('{') && method == "get" {
                assert!(statuses.contains("404"), "{what}: no 404");
            }
        });
        assert!(seen >= 60, "only {seen} operations");
    }

    #[test]
    fn every_path_parameter_is_declared() {
        let mut doc = document();
        each_operation(&mut doc, |path, method, op| {
            let in_path: BTreeSet<String> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .map(str::to_string)
                .collect();
            let declared: BTreeSet<String> = op
                .parameters
                .iter()
                .flatten()
                .filter(|p| p.parameter_in == ParameterIn::Path)
                .map(|p| p.name.clone())
                .collect();
            assert_eq!(in_path, declared, "{method} {path}");
        });
    }

    #[test]
    fn refusals_are_problem_json() {
        let doc = document();
        let responses = &doc.components.as_ref().unwrap().responses;
        for name in [
            "BadRequest",
            "Unauthorized",
            "Forbidden",
            "NotFound",
            "Conflict",
            "TooLarge",
            "Invalid",
            "Unavailable",
            "Internal",
        ] {
            let Some(RefOr::T(response)) = responses.get(name) else {
                panic!("no response {name}");
            };
            let schema = serde_json::to_value(&response.content[PROBLEM_JSON].schema).unwrap();
            assert_eq!(schema["$ref"], "#/components/schemas/Problem", "{name}");
        }
        let json = doc.to_json().unwrap();
        for reference in json.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap();
            let (kind, name) = target
                .strip_prefix("#/components/")
                .and_then(|t| t.split_once('/'))
                .unwrap_or_else(|| panic!("odd reference {target}"));
            let components = serde_json::to_value(doc.components.as_ref().unwrap()).unwrap();
            assert!(
                !components[kind][name].is_null(),
                "dangling reference {target}"
            );
        }
    }

    /// With `routes!`, a handler is routed exactly when it is documented:
    /// every `#[utoipa::path]` written is one operation in the document,
    /// and operation ids are unique.
    #[test]
    fn one_operation_per_route() {
        // Resource modules route only through `routes!`; `mod.rs` adds
        // `/metrics`, documented by its `#[utoipa::path]`.
        for source in &SOURCES[..SOURCES.len() - 1] {
            assert!(
                !source.contains(".route(\""),
                "a route outside routes!: {}",
                source.lines().next().unwrap_or_default()
            );
        }
        let attributes: usize = SOURCES
            .iter()
            .map(|source| source.matches("#[utoipa::path(").count())
            .sum();
        // `transitions!` (api/transitions.rs, not in SOURCES) writes one
        // attribute per entry of each invocation.
        let transitions: usize = SOURCES
            .iter()
            .flat_map(|source| source.split("transitions! {\n").skip(1))
            .filter_map(|rest| rest.split_once("\n}"))
            .map(|(entries, _)| entries.matches(" => ").count())
            .sum();
        assert!(
            transitions >= 10,
            "orders' and transfers' transitions: {transitions}"
        );
        let written = attributes + transitions;
        let mut doc = document();
        let mut ids = BTreeSet::new();
        let mut operations = 0;
        each_operation(&mut doc, |path, method, op| {
            operations += 1;
            let id = op.operation_id.clone().unwrap_or_default();
            assert!(
                ids.insert(id.clone()),
                "{method} {path}: operation id {id} twice"
            );
        });
        assert_eq!(operations, written);
    }
}
