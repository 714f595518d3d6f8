//! `POST /v1/replays`: a region's stored orders re-run through a candidate
//! (the live policy with some changes, or with one deployment in its
//! slot), answered with the replay report. For HQ and the region's admin.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{Forbidden, JsonBody};
use super::{ApiError, ApiResult, AppState, Body, Caller, FieldProblem};
use crate::domain::TimestampMs;
use crate::policy::PolicySet;
use crate::policy::replay::{ReplayReport, Replayer, StoredOrder, parse_instant};
use crate::service::deployments::{self, ChangeRequest};
use crate::store::deployments as deployment_store;
use crate::store::history::{self, History, HistoryRange};
use crate::store::{StoreResult, now_ms};

/// Orders one request may replay; more is `chanhost replay`'s job.
pub const MAX_ORDERS: u64 = 100_000;

/// Orders read from the database and handed to the replay at a time.
const PAGE: u32 = 1_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(replay))
}

/// The body of `POST /v1/replays`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplayRequest {
    region: String,
    /// Orders placed at or after (ms since the epoch or RFC 3339); default
    /// the first.
    from: Option<Bound>,
    /// Orders placed before; default now.
    to: Option<Bound>,
    candidate: CandidateRequest,
}

/// An instant: ms since the epoch, or RFC 3339 text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Bound {
    Ms(i64),
    Text(String),
}

impl Bound {
    fn instant(&self, path: &str) -> ApiResult<TimestampMs> {
        match self {
            Bound::Ms(ms) => Ok(*ms),
            Bound::Text(text) => parse_instant(text).map_err(|e| ApiError::invalid(path, e)),
        }
    }
}

/// Exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CandidateRequest {
    /// As in `POST /v1/deployments`, applied to the live policy; `"*"`
    /// means the replayed region. None at all replays the live policy.
    changes: Option<Vec<ChangeRequest>>,
    /// A deployment (any mode or state) put in its slot for every dealer.
    deployment_id: Option<String>,
}

/// Replay a region's orders with a candidate policy
///
/// The live policy with some changes, or with one deployment in its slot,
/// re-runs the region's stored orders (at most 100,000 per request) and
/// reports what would change. HQ or the region's admin.
#[utoipa::path(
    post,
    path = "/replays",
    tag = "policies",
    request_body = ReplayRequest,
    responses(
        (status = 200, description = "The replay report.", body = ReplayReport),
        JsonBody, Forbidden,
    ),
)]
async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Body(request): Body<ReplayRequest>,
) -> ApiResult<Json<ReplayReport>> {
    let region = request.region.clone();
    caller.require_admin_of(&region, "replay orders")?;
    if !state.policies.current().regions.contains_key(&region) {
        return Err(ApiError::invalid(
            "/region",
            format!("unknown region {region}"),
        ));
    }
    let from = match &request.from {
        Some(bound) => bound.instant("/from")?,
        None => i64::MIN,
    };
    let to = match &request.to {
        Some(bound) => bound.instant("/to")?,
        None => now_ms() + 1,
    };
    if from >= to {
        return Err(ApiError::invalid("/to", "must be after from"));
    }
    let candidate = Arc::new(candidate(&state, &region, request.candidate).await?);

    let range = HistoryRange {
        region: region.clone(),
        from,
        to,
    };
    let count = history::count(&state.store, &range).await?;
    if count > MAX_ORDERS {
        return Err(ApiError::invalid(
            "/from",
            format!(
                "{count} orders were placed in this range; one request replays at most {MAX_ORDERS}: \
                 narrow from/to, or run chanhost replay"
            ),
        ));
    }

    // One replay at a time per host, on half its cores: orders keep
    // being placed meanwhile.
    let _turn = REPLAYS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let threads = std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1));
    let (pages, mut next) = tokio::sync::mpsc::channel::<Vec<StoredOrder>>(2);
    let read_range = range.clone();
    let replaying = tokio::task::spawn_blocking(move || {
        let mut replayer = Replayer::new(&candidate, &range.region, from, to).threads(threads);
        while let Some(page) = next.blocking_recv() {
            replayer.replay(&page, &|_| {});
        }
        replayer.finish()
    });
    let read = read_pages(&state, read_range, pages).await;
    let report = replaying
        .await
        .map_err(|e| ApiError::Internal(format!("replay task: {e}")))?;
    read?;
    Ok(Json(report))
}

static REPLAYS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Sends the range's orders page by page; dropping `pages` ends the replay.
async fn read_pages(
    state: &AppState,
    range: HistoryRange,
    pages: tokio::sync::mpsc::Sender<Vec<StoredOrder>>,
) -> StoreResult<()> {
    let mut history = History::new(&state.store, range, PAGE);
    while let Some(page) = history.next_page().await? {
        if pages.send(page).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// The candidate policy the request names, for replay.
async fn candidate(
    state: &AppState,
    region: &str,
    request: CandidateRequest,
) -> ApiResult<PolicySet> {
    match (request.changes, request.deployment_id) {
        (Some(mut changes), None) => {
            let mut problems = Vec::new();
            for (i, change) in changes.iter_mut().enumerate() {
                if change.region == "*" {
                    change.region = region.to_string();
                } else if change.region != region {
                    problems.push(FieldProblem::new(
                        format!("/candidate/changes/{i}/region"),
                        format!(
                            "a replay of region {region} only sees changes to {region} (or \"*\")"
                        ),
                    ));
                }
            }
            if !problems.is_empty() {
                return Err(ApiError::invalid_fields(problems));
            }
            let set = deployments::build_candidate(state, &changes).await?;
            Ok(set.for_replay())
        }
        (None, Some(id)) => {
            let path = "/candidate/deployment_id";
            let deployment = {
                let mut conn = state.store.pool.acquire().await?;
                deployment_store::get(&mut conn, &id).await?
            };
            let Some(deployment) = deployment else {
                return Err(ApiError::invalid(path, format!("no deployment {id}")));
            };
            if deployment.region != region {
                return Err(ApiError::invalid(
                    path,
                    format!(
                        "deployment {id} is for region {}, not {region}",
                        deployment.region
                    ),
                ));
            }
            let set =
                deployments::candidate_for_deployment(&state.store, state.policies.baseline(), &id)
                    .await
                    .map_err(|e| ApiError::invalid(path, e.to_string()))?;
            Ok(set.for_replay())
        }
        _ => Err(ApiError::invalid(
            "/candidate",
            "give either changes or deployment_id",
        )),
    }
}
