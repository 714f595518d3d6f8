//! Starting the service: load the brand's plugin sets, open the store
//! (migrating it), mirror the catalogue, seed an empty store from the data
//! set, and serve the API until asked to stop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::{self, AppState, Services, auth::TokenCache};
use crate::config::BrandConfig;
use crate::config::dataset::Dataset;
use crate::metrics::Metrics;
use crate::policy::{ComponentCache, LivePolicies, PolicyEngine, PolicySet};
use crate::service::alerts::AlertSettings;
use crate::service::deployments::{self, Deployments};
use crate::store::{self, OrderWriter, Store, seed::Seeded};

/// Where the service's configuration and data live.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// The brand directory (hq.toml, catalogue.toml, regions/).
    pub config: PathBuf,
    /// The data set to seed an empty store with, if any.
    pub dataset: Option<PathBuf>,
    /// `sqlite://…` or `postgres://…`; `None` means SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
}

/// A server that is accepting connections.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub dataset: Option<Dataset>,
    pub seeded: Option<Seeded>,
    listener: TcpListener,
}

/// Everything up to (not including) serving requests.
pub async fn prepare(options: &ServerOptions) -> anyhow::Result<Running> {
    let brand = BrandConfig::load(&options.config)?;
    let dataset = options
        .dataset
        .as_deref()
        .map(|dir| Dataset::load(dir, &brand))
        .transpose()?;
    let store = match &options.database_url {
        Some(url) => Store::connect(url).await,
        None => Store::open_data_dir(&options.data_dir).await,
    }
    .context("opening the database")?;
    store::catalogue::mirror(&store, &brand).await?;
    let seeded = match &dataset {
        Some(data) => Some(store::seed::seed(&store, data).await?),
        None => None,
    };
    let policies = {
        let brand = brand.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<PolicySet> {
            let engine =
                PolicyEngine::new(brand.hq.limits.clone(), ComponentCache::default_location())?;
            Ok(PolicySet::load(&brand, engine)?)
        })
        .await??
    };
    let alerts = AlertSettings::from_hq(&brand.hq);
    let (deployments, background) = Deployments::new(
        brand.hq.deployments.clone(),
        brand.hq.registry.trusted_keys.clone(),
        policies.engine.clone(),
    );
    let metrics = Arc::new(Metrics::new());
    let state = AppState(Arc::new(Services {
        writer: OrderWriter::spawn(store.clone(), metrics.commit.clone()),
        store,
        brand: Arc::new(brand),
        policies: LivePolicies::new(policies),
        deployments,
        tokens: TokenCache::default(),
        alerts,
        metrics,
    }));
    // Components the binary and the brand directory bring are in the
    // registry; deployments made earlier (by any host) are live again.
    deployments::register_known_components(&state).await?;
    deployments::refresh(&state)
        .await
        .map_err(|err| anyhow::anyhow!("applying active deployments: {err:?}"))?;
    deployments::spawn_background(state.clone(), background);
    let listener = TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("listening on {}", options.listen))?;
    Ok(Running {
        addr: listener.local_addr()?,
        state,
        dataset,
        seeded,
        listener,
    })
}

impl Running {
    /// Serves until `shutdown` resolves, then finishes requests in flight.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        crate::service::alerts::spawn_scanner(self.state.clone());
        let app = api::router(self.state.clone());
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
