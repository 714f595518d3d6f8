//! Who is calling: a bearer API token, stored as its SHA-256, bound to one
//! role. Handlers ask the [`Caller`] before they act; every refusal names
//! the reason.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use crate::store::tokens;

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// HQ: everything, everywhere.
    HqAdmin,
    /// A regional center's staff: their region only.
    RegionAdmin { region: String },
    /// A dealer or store: its own orders only.
    Dealer { dealer_id: String, region: String },
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Caller {
    /// The token's name, recorded as the actor of what the caller does.
    pub name: String,
    #[serde(flatten)]
    pub role: Role,
}

impl Caller {
    /// How the audit trail names this caller, e.g. `region_admin:gd (Guangdong ops)`.
    pub fn actor(&self) -> String {
        match &self.role {
            Role::HqAdmin => format!("hq_admin ({})", self.name),
            Role::RegionAdmin { region } => format!("region_admin:{region} ({})", self.name),
            Role::Dealer { dealer_id, .. } => format!("dealer:{dealer_id} ({})", self.name),
        }
    }

    pub fn is_hq(&self) -> bool {
        self.role == Role::HqAdmin
    }

    pub fn require_hq(&self, action: &str) -> Result<(), ApiError> {
        if self.is_hq() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("only HQ may {action}")))
        }
    }

    /// HQ, or the admin of `region`.
    pub fn require_admin_of(&self, region: &str, action: &str) -> Result<(), ApiError> {
        match &self.role {
            Role::HqAdmin => Ok(()),
            Role::RegionAdmin { region: own } if own == region => Ok(()),
            Role::RegionAdmin { region: own } => Err(ApiError::forbidden(format!(
                "a region admin of {own} may not {action} in region {region}"
            ))),
            Role::Dealer { .. } => Err(ApiError::forbidden(format!(
                "a dealer may not {action}; ask your regional center"
            ))),
        }
    }

    /// May this caller see things of `region` (HQ, or that region's admin)?
    pub fn require_region_view(&self, region: &str) -> Result<(), ApiError> {
        self.require_admin_of(region, "view data")
    }

    /// HQ, the region's admin, or the dealer itself.
    pub fn require_party(
        &self,
        dealer_id: &str,
        region: &str,
        action: &str,
    ) -> Result<(), ApiError> {
        match &self.role {
            Role::Dealer { dealer_id: own, .. } if own == dealer_id => Ok(()),
            Role::Dealer { dealer_id: own, .. } => Err(ApiError::forbidden(format!(
                "dealer {own} may not {action} for dealer {dealer_id}"
            ))),
            _ => self.require_admin_of(region, action),
        }
    }

    /// The region a region admin is bound to, if any.
    pub fn own_region(&self) -> Option<&str> {
        match &self.role {
            Role::RegionAdmin { region } | Role::Dealer { region, .. } => Some(region),
            Role::HqAdmin => None,
        }
    }

    pub fn own_dealer(&self) -> Option<&str> {
        match &self.role {
            Role::Dealer { dealer_id, .. } => Some(dealer_id),
            _ => None,
        }
    }
}

/// SHA-256 of a token, hex: what the database stores.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Known tokens, filled from the database on first sight. Several hosts may
/// share one database, so a miss always asks the database.
#[derive(Default)]
pub struct TokenCache {
    known: RwLock<HashMap<String, Caller>>,
}

impl TokenCache {
    async fn resolve(&self, state: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
        let hash = hash_token(token);
        if let Some(caller) = self.known.read().expect("token cache").get(&hash) {
            return Ok(Some(caller.clone()));
        }
        let found = tokens::find(&state.store, &hash).await?;
        if let Some(caller) = &found {
            self.known
                .write()
                .expect("token cache")
                .insert(hash, caller.clone());
        }
        Ok(found)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("missing Authorization: Bearer <token>".into())
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("Authorization must be `Bearer <token>`".into())
            })?;
        state
            .tokens
            .resolve(state, token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked API token".into()))
    }
}
