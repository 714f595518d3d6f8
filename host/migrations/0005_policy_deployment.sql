-- Policy deployment: published plugin components, the deployments that put
-- them into region slots, an audit log of every change, and the
-- differences shadow runs found.

-- Components, content-addressed by sha256. The bytes live here so every
-- host sharing the database can load what any host accepted.
CREATE TABLE plugin_artifacts (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    version TEXT NOT NULL,
    wit_version TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- Key id of the signature that was verified, or `builtin`.
    publisher TEXT NOT NULL,
    signature TEXT,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    wasm BYTEA NOT NULL
);
-- A published name@version never changes content. Built-in plugins are
-- exempt: they come with the binary, and a newer binary may carry a newer
-- build under the same version.
CREATE UNIQUE INDEX plugin_artifacts_name_version ON plugin_artifacts(name, version)
    WHERE publisher <> 'builtin';

-- One row per region slot a rollout changed. `mode` is live, canary or
-- shadow; `state` is active while it runs, then superseded, rolled_back,
-- auto_rolled_back, promoted or stopped. `plugin_hash` NULL removes a
-- promotion slot. `previous_id` is the live deployment this one replaced
-- (NULL: the brand directory's configuration).
CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    rollout_id TEXT NOT NULL,
    region TEXT NOT NULL,
    slot TEXT NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,
    plugin_hash TEXT REFERENCES plugin_artifacts(hash),
    config_json TEXT NOT NULL,
    audience_json TEXT,
    previous_id TEXT REFERENCES deployments(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    ended_at BIGINT,
    ended_by TEXT
);
-- At most one active deployment per slot and mode: two hosts deploying at
-- once cannot both win.
CREATE UNIQUE INDEX deployments_one_active ON deployments(region, slot, mode) WHERE state = 'active';
CREATE INDEX deployments_region ON deployments(region, id);
CREATE INDEX deployments_rollout ON deployments(rollout_id);

-- Who changed what, when; `detail` holds the config diff (RFC 6902).
CREATE TABLE policy_audit (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    region TEXT,
    slot TEXT,
    deployment_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX policy_audit_region ON policy_audit(region, id);

-- Each live order a shadow deployment was compared on.
CREATE TABLE shadow_results (
    id TEXT PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments(id),
    order_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    differs BIGINT NOT NULL,
    diff_json TEXT
);
CREATE INDEX shadow_results_deployment ON shadow_results(deployment_id, id);
